/* util.c — memory, growable strings, string maps, source lines, diagnostics.
 *
 * Nothing here knows about the language.  Diagnostics print the gcc/clang
 * form: "path:line:col: error: message", the source line, a caret. */
#include "dcc.h"

#include <stdlib.h>
#include <string.h>

Diags diags;

/* Allocation failure is not an input error: report it and exit 2. */
static void out_of_memory(void) {
  fputs("dcc: error: out of memory\n", stderr);
  exit(2);
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    out_of_memory();
  return p;
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    out_of_memory();
  return p;
}

void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p)
    out_of_memory();
  return p;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xstrndup(const char *s, size_t n) {
  char *p = xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *xprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = xmalloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

void buf_putc(Buf *b, char c) {
  if (b->len + 2 > b->cap) {
    b->cap = b->cap ? 2 * b->cap : 256;
    b->s = xrealloc(b->s, b->cap);
  }
  b->s[b->len++] = c;
  b->s[b->len] = 0;
}

void buf_puts(Buf *b, const char *s) {
  size_t n = strlen(s);
  if (b->len + n + 1 > b->cap) {
    while (b->len + n + 1 > b->cap)
      b->cap = b->cap ? 2 * b->cap : 256;
    b->s = xrealloc(b->s, b->cap);
  }
  memcpy(b->s + b->len, s, n + 1);
  b->len += n;
}

void buf_vprintf(Buf *b, const char *fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  if (b->len + (size_t)n + 1 > b->cap) {
    while (b->len + (size_t)n + 1 > b->cap)
      b->cap = b->cap ? 2 * b->cap : 256;
    b->s = xrealloc(b->s, b->cap);
  }
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, again);
  va_end(again);
  b->len += (size_t)n;
}

void buf_printf(Buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(b, fmt, ap);
  va_end(ap);
}

/* FNV-1a: any fixed hash will do, the map's order is never observed. */
static uint32_t hash_str(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

void *strmap_get(StrMap *m, const char *key) {
  if (!m->cap)
    return NULL;
  for (uint32_t i = hash_str(key) & (uint32_t)(m->cap - 1);; i = (i + 1) & (uint32_t)(m->cap - 1)) {
    if (!m->keys[i])
      return NULL;
    if (!strcmp(m->keys[i], key))
      return m->vals[i];
  }
}

void strmap_put(StrMap *m, const char *key, void *val) {
  if (2 * (m->n + 1) > m->cap) {
    StrMap bigger = {0};
    bigger.cap = m->cap ? 2 * m->cap : 64;
    bigger.keys = xcalloc((size_t)bigger.cap, sizeof *bigger.keys);
    bigger.vals = xcalloc((size_t)bigger.cap, sizeof *bigger.vals);
    for (int i = 0; i < m->cap; i++)
      if (m->keys[i])
        strmap_put(&bigger, m->keys[i], m->vals[i]);
    free(m->keys);
    free(m->vals);
    *m = bigger;
  }
  uint32_t i = hash_str(key) & (uint32_t)(m->cap - 1);
  while (m->keys[i] && strcmp(m->keys[i], key))
    i = (i + 1) & (uint32_t)(m->cap - 1);
  if (!m->keys[i]) {
    m->keys[i] = key;
    m->n++;
  }
  m->vals[i] = val;
}

void format_shortest(char *buf, size_t size, double v, bool as_float) {
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, v);
    double back = strtod(buf, NULL);
    if (as_float ? (float)back == (float)v : back == v)
      return;
  }
}

int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64)
    return 1000;
  int row[65];
  for (size_t j = 0; j <= lb; j++)
    row[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    int diag = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int up = row[j];
      int best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

/* Decode one UTF-8 sequence at s (n bytes available); returns its length,
 * 0 if it is not valid UTF-8. */
int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  int len;
  uint32_t c = s[0], min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, c &= 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, c &= 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, c &= 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if ((size_t)len > n)
    return 0;
  for (int i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    c = (c << 6) | (s[i] & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    return 0;
  *cp = c;
  return len;
}

int char_len(const char *s, size_t n) {
  uint32_t cp;
  if (n == 0 || (unsigned char)s[0] < 0x80)
    return 1;
  int len = utf8_decode((const unsigned char *)s, n, &cp);
  return len ? len : 1;
}

/* ---- source positions ------------------------------------------------ */

void source_index_lines(Source *src) {
  VEC(int) starts = {0};
  vec_push(&starts, (int)src->bom);
  for (size_t i = src->bom; i < src->len; i++)
    if (src->text[i] == '\n')
      vec_push(&starts, (int)i + 1);
  src->line_starts = starts.v;
  src->nlines = starts.n;
}

/* 1-based line and column of a byte offset.  Columns count characters
 * (UTF-8 continuation bytes do not start one), a tab as one. */
void source_line_col(const Source *src, int off, int *line, int *col) {
  int lo = 0, hi = src->nlines - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (src->line_starts[mid] <= off)
      lo = mid;
    else
      hi = mid - 1;
  }
  int c = 1;
  for (int i = src->line_starts[lo]; i < off && (size_t)i < src->len; c++)
    i += char_len(src->text + i, src->len - (size_t)i);
  *line = lo + 1;
  *col = c;
}

/* Print the source line holding off (clipped around the spot when it is
 * very long), then a caret line. */
static void print_context(const Source *src, int off, int len) {
  int line, col;
  source_line_col(src, off, &line, &col);
  int start = src->line_starts[line - 1];
  int end = start;
  while ((size_t)end < src->len && src->text[end] != '\n')
    end++;
  if (end > start && src->text[end - 1] == '\r')
    end--;
  /* Clip to a window of 200 bytes around the spot. */
  int from = start, to = end;
  if (off - from > 120)
    from = off - 60;
  if (to - from > 200)
    to = from + 200;
  if (off > to)
    off = to;
  Buf b = {0};
  if (from > start)
    buf_puts(&b, "...");
  for (int i = from; i < to; i++) {
    unsigned char ch = (unsigned char)src->text[i];
    uint32_t cp;
    int n = ch >= 0x80 ? utf8_decode((const unsigned char *)src->text + i, (size_t)(to - i), &cp) : 1;
    if (n == 0) {
      buf_putc(&b, '?'); /* not UTF-8: one column, like the lexer counts it */
    } else if (n > 1) {
      for (int k = 0; k < n; k++)
        buf_putc(&b, src->text[i + k]);
      i += n - 1;
    } else {
      buf_putc(&b, ch == '\t' ? '\t' : (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch);
    }
  }
  if (to < end)
    buf_puts(&b, "...");
  buf_putc(&b, '\n');
  if (from > start)
    buf_puts(&b, "   ");
  for (int i = from; i < off; i += char_len(src->text + i, src->len - (size_t)i))
    buf_putc(&b, src->text[i] == '\t' ? '\t' : ' ');
  buf_putc(&b, '^');
  for (int i = 1; i < len && off + i < to; i++)
    buf_putc(&b, '~');
  buf_putc(&b, '\n');
  fputs(b.s, stderr);
  free(b.s);
}

void vdiag_at(DiagKind kind, int off, int len, const char *fmt, va_list ap) {
  if (kind == DIAG_WARNING) {
    if (diags.no_warnings)
      return;
    if (diags.werror)
      kind = DIAG_ERROR;
    else
      diags.warnings++;
  }
  if (kind == DIAG_ERROR) {
    if (diags.stopped) {
      diags.errors++;
      return;
    }
    if (diags.errors == DCC_MAX_ERRORS) {
      fprintf(stderr, "dcc: fatal error: too many errors emitted, stopping now\n");
      diags.stopped = true;
      diags.errors++;
      return;
    }
    diags.errors++;
  } else if (diags.stopped) {
    return;
  }
  static const char *const kinds[] = {"error", "warning", "note"};
  Source *src = diags.src;
  if (!src || off < 0) {
    fprintf(stderr, "%s: %s: ", src ? src->path : "dcc", kinds[kind]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return;
  }
  int line, col;
  source_line_col(src, off, &line, &col);
  fprintf(stderr, "%s:%d:%d: %s: ", src->path, line, col, kinds[kind]);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  print_context(src, off, len);
  /* inside a function's body: where it was called from, innermost first */
  for (int i = diags.calls.n - 1; kind != DIAG_NOTE && i >= 0; i--) {
    DiagCall *c = &diags.calls.v[i];
    source_line_col(src, c->off, &line, &col);
    fprintf(stderr, "%s:%d:%d: note: in this call of '%s'\n", src->path, line, col, c->name);
    print_context(src, c->off, c->len);
  }
}

void diag_push_call(int off, int len, const char *name) { vec_push(&diags.calls, ((DiagCall){off, len, name})); }

void diag_pop_call(void) { diags.calls.n--; }

void diag_at(DiagKind kind, int off, int len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag_at(kind, off, len, fmt, ap);
  va_end(ap);
}
