/* lex.c — bytes to tokens.
 *
 * Requires: a Source whose text is NUL-terminated (it may hold NULs too).
 * Guarantees: a token array ending in TK_EOF; TK_NEWLINE only where a
 * statement really ends (not inside ( or [, not after a binary operator or
 * a comma, never twice in a row); every lexical error reported, lexing
 * going on after it. */
#include "dcc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *tok_kind_str(TokKind k) {
  static const char *const s[] = {
      [TK_EOF] = "end of file", [TK_NEWLINE] = "end of line",
      [TK_NAME] = "name",       [TK_NUM] = "number",
      [TK_PLUS] = "'+'",        [TK_MINUS] = "'-'",
      [TK_STAR] = "'*'",        [TK_SLASH] = "'/'",
      [TK_CARET] = "'^'",       [TK_AT] = "'@'",
      [TK_LPAREN] = "'('",      [TK_RPAREN] = "')'",
      [TK_LBRACK] = "'['",      [TK_RBRACK] = "']'",
      [TK_COMMA] = "','",       [TK_ASSIGN] = "'='",
      [TK_INPUT] = "'input'",   [TK_PARAM] = "'param'",
      [TK_OUTPUT] = "'output'", [TK_LOSS] = "'loss'",
      [TK_DEF] = "'def'",       [TK_RETURN] = "'return'",
      [TK_LBRACE] = "'{'",      [TK_RBRACE] = "'}'",
      [TK_ERROR] = "an invalid character",
  };
  return s[k];
}

static bool is_ident_start(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_ident(int c) { return is_ident_start(c) || is_digit(c); }

/* A line that ends in one of these continues on the next line. */
static bool continues_line(TokKind k) {
  return k == TK_PLUS || k == TK_MINUS || k == TK_STAR || k == TK_SLASH || k == TK_CARET ||
         k == TK_AT || k == TK_COMMA;
}

Tokens lex(Source *src) {
  Tokens toks = {0};
  const char *t = src->text;
  size_t n = src->len;
  size_t i = src->bom;
  int depth = 0;           /* open ( and [ */
  size_t line_start = i;
  bool line_reported = false;

  for (;;) {
    /* A line longer than the limit is reported once, and skipped. */
    if (!line_reported && i - line_start > DCC_MAX_LINE_BYTES) {
      size_t end = i;
      while (end < n && t[end] != '\n')
        end++;
      diag_at(DIAG_ERROR, (int)(line_start + DCC_MAX_LINE_BYTES), 0,
              "line too long (%zu bytes; the limit is %u)", end - line_start,
              (unsigned)DCC_MAX_LINE_BYTES);
      vec_push(&toks, ((Token){.kind = TK_ERROR, .off = (int)(line_start + DCC_MAX_LINE_BYTES)}));
      line_reported = true;
      i = end;
    }
    if (i >= n)
      break;
    if (toks.n >= DCC_MAX_TOKENS) { /* each costs memory in every pass after */
      diag_at(DIAG_ERROR, (int)i, 0, "too many tokens: the limit is %d", DCC_MAX_TOKENS);
      vec_push(&toks, ((Token){.kind = TK_ERROR, .off = (int)i})); /* the parser stays quiet */
      break;
    }
    unsigned char c = (unsigned char)t[i];
    if (c == '\n') {
      Token *last = toks.n ? &toks.v[toks.n - 1] : NULL;
      if (depth == 0 && last && last->kind != TK_NEWLINE && !continues_line(last->kind))
        vec_push(&toks, ((Token){.kind = TK_NEWLINE, .off = (int)i, .len = 0}));
      i++;
      line_start = i;
      line_reported = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      i++;
      continue;
    }
    if (c == '/' && i + 1 < n && t[i + 1] == '/') /* C's comment: an error, then read as one */
      diag_at(DIAG_ERROR, (int)i, 2, "'//' does not start a comment: comments start with #");
    if (c == '#' || (c == '/' && i + 1 < n && t[i + 1] == '/')) {
      /* A comment holds any byte but NUL. */
      while (i < n && t[i] != '\n') {
        if (t[i] == 0)
          diag_at(DIAG_ERROR, (int)i, 1, "NUL byte in input");
        i++;
        if (i - line_start > DCC_MAX_LINE_BYTES)
          break;
      }
      continue;
    }
    Token tok = {.off = (int)i, .len = 1};
    if (is_ident_start(c)) {
      size_t j = i;
      while (j < n && is_ident(t[j]))
        j++;
      tok.len = (int)(j - i);
      if (j - i > DCC_MAX_NAME_LEN) {
        diag_at(DIAG_ERROR, (int)i, 1, "name too long (%zu characters; the limit is %d)", j - i,
                DCC_MAX_NAME_LEN);
        tok.kind = TK_ERROR;
        vec_push(&toks, tok);
        i = j;
        continue;
      }
      tok.name = xstrndup(t + i, j - i);
      tok.kind = !strcmp(tok.name, "input")    ? TK_INPUT
                 : !strcmp(tok.name, "param")  ? TK_PARAM
                 : !strcmp(tok.name, "output") ? TK_OUTPUT
                 : !strcmp(tok.name, "loss")   ? TK_LOSS
                 : !strcmp(tok.name, "def")    ? TK_DEF
                 : !strcmp(tok.name, "return") ? TK_RETURN
                                               : TK_NAME;
      i = j;
      vec_push(&toks, tok);
      continue;
    }
    if (is_digit(c) || (c == '.' && i + 1 < n && is_digit(t[i + 1]))) {
      size_t j = i;
      bool frac = false, ok = true;
      while (j < n && is_digit(t[j]))
        j++;
      if (j < n && t[j] == '.') {
        frac = true;
        j++;
        while (j < n && is_digit(t[j]))
          j++;
      }
      if (j < n && (t[j] == 'e' || t[j] == 'E')) {
        frac = true;
        j++;
        if (j < n && (t[j] == '+' || t[j] == '-'))
          j++;
        if (j >= n || !is_digit(t[j]))
          ok = false;
        while (j < n && is_digit(t[j]))
          j++;
      }
      tok.kind = TK_NUM;
      tok.len = (int)(j - i);
      if (!ok) {
        diag_at(DIAG_ERROR, (int)i, tok.len, "malformed number: an exponent needs digits");
        tok.kind = TK_ERROR;
      } else if (j < n && (is_ident_start(t[j]) || t[j] == '.')) {
        size_t k = j;
        while (k < n && (is_ident(t[k]) || t[k] == '.'))
          k++;
        diag_at(DIAG_ERROR, (int)j, (int)(k - j), "invalid suffix '%.*s' on number", (int)(k - j), t + j);
        tok.kind = TK_ERROR;
        j = k;
      } else {
        /* strtod in the C locale: dcc never calls setlocale. */
        char *num = xstrndup(t + i, j - i);
        errno = 0;
        tok.num = strtod(num, NULL);
        if (errno == ERANGE && (tok.num == HUGE_VAL || tok.num == -HUGE_VAL)) {
          diag_at(DIAG_ERROR, (int)i, tok.len, "number '%s' is too large for a double", num);
          tok.kind = TK_ERROR; /* the statement is dropped: no cascade */
        }
        if (!frac && j - i <= 9) {
          tok.is_int = true;
          tok.ival = atoi(num);
        } else if (!frac) {
          tok.is_int = true;
          tok.ival = -1; /* too big for any size or index: the checker says so */
        }
        free(num);
      }
      i = j;
      vec_push(&toks, tok);
      continue;
    }
    i++;
    switch (c) {
    case '+': tok.kind = TK_PLUS; break;
    case '-': tok.kind = TK_MINUS; break;
    case '*':
      tok.kind = TK_STAR;
      if (i < n && t[i] == '*') { /* an error, then read as the power it means */
        diag_at(DIAG_ERROR, tok.off, 2, "'**' is not an operator: use ^ for powers (x^2)");
        tok.kind = TK_CARET, tok.len = 2, i++;
      }
      break;
    case '/': tok.kind = TK_SLASH; break;
    case '^': tok.kind = TK_CARET; break;
    case '@': tok.kind = TK_AT; break;
    case '(': tok.kind = TK_LPAREN; depth++; break;
    case ')': tok.kind = TK_RPAREN; if (depth) depth--; break;
    case '[': tok.kind = TK_LBRACK; depth++; break;
    case '{': tok.kind = TK_LBRACE; break; /* a body's lines are statements */
    case '}': tok.kind = TK_RBRACE; break;
    case ']': tok.kind = TK_RBRACK; if (depth) depth--; break;
    case ',': tok.kind = TK_COMMA; break;
    case '=': tok.kind = TK_ASSIGN; break;
    default: {
      uint32_t cp;
      int len;
      if (c == 0) {
        diag_at(DIAG_ERROR, tok.off, 1, "NUL byte in input");
      } else if (c >= 0x80 && (len = utf8_decode((const unsigned char *)t + tok.off, n - (size_t)tok.off, &cp))) {
        diag_at(DIAG_ERROR, tok.off, 1, "non-ASCII character U+%04X outside a comment", (unsigned)cp);
        i = (size_t)tok.off + (size_t)len;
      } else if (c >= 0x80) {
        diag_at(DIAG_ERROR, tok.off, 1, "invalid UTF-8 byte 0x%02X", c);
      } else if (c == ';') {
        diag_at(DIAG_ERROR, tok.off, 1, "unexpected ';': a statement ends at the end of its line");
      } else if (c < 0x20 || c == 0x7f) {
        diag_at(DIAG_ERROR, tok.off, 1, "unexpected control character 0x%02X", c);
      } else {
        diag_at(DIAG_ERROR, tok.off, 1, "unexpected character '%c'", c);
      }
      tok.kind = TK_ERROR;
      vec_push(&toks, tok);
      continue;
    }
    }
    vec_push(&toks, tok);
  }
  /* An error at the end of the file points just past its last character
   * (the final line end is not a character of the last line). */
  size_t eof = n;
  if (eof > src->bom && t[eof - 1] == '\n')
    eof--;
  if (eof > src->bom && t[eof - 1] == '\r')
    eof--;
  if (toks.n && toks.v[toks.n - 1].kind != TK_NEWLINE)
    vec_push(&toks, ((Token){.kind = TK_NEWLINE, .off = (int)eof, .len = 0}));
  vec_push(&toks, ((Token){.kind = TK_EOF, .off = (int)eof, .len = 0}));
  return toks;
}
