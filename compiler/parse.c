/* parse.c — tokens to AST, by recursive descent.
 *
 * Requires: tokens from lex() (statements end in TK_NEWLINE, the array in
 * TK_EOF).  Guarantees: one Stmt per statement, broken ones marked; every
 * Expr keeps the token it is about, for diagnostics; nesting deeper than
 * DCC_MAX_NESTING is a diagnostic, never a stack overflow.  After a syntax
 * error the parser skips to the end of the statement and goes on, so that
 * independent errors are all reported. */
#include "dcc.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  Program *prog;
  Token *tok;  /* all tokens */
  int pos;     /* the next token */
  int depth;   /* current nesting, against DCC_MAX_NESTING */
  bool in_body; /* parsing a function's body */
  bool body_over; /* the statement's body has been parsed, to its end */
  jmp_buf bail; /* a syntax error leaves the statement through here */
} Parser;

static Token *peek(Parser *p) { return &p->tok[p->pos]; }
static bool at(Parser *p, TokKind k) { return p->tok[p->pos].kind == k; }

static Token *next(Parser *p) {
  Token *t = &p->tok[p->pos];
  if (t->kind != TK_EOF)
    p->pos++;
  return t;
}

/* Report a syntax error at token t and abandon the statement. */
static _Noreturn void syntax_error(Parser *p, Token *t, const char *fmt, ...) {
  /* The lexer already reported the statement's bad character: one error,
   * not a cascade. */
  bool lexed_badly = t->kind == TK_ERROR;
  for (int i = p->pos; i >= 0 && !lexed_badly && p->tok[i].kind != TK_NEWLINE; i--)
    lexed_badly = p->tok[i].kind == TK_ERROR;
  for (int i = p->pos; !lexed_badly && p->tok[i].kind != TK_NEWLINE && p->tok[i].kind != TK_EOF; i++)
    lexed_badly = p->tok[i].kind == TK_ERROR;
  if (!lexed_badly) {
    va_list ap;
    va_start(ap, fmt);
    vdiag_at(DIAG_ERROR, t->off, t->len, fmt, ap);
    va_end(ap);
  }
  longjmp(p->bail, 1);
}

static const char *tok_desc(Token *t) {
  static char buf[80];
  if (t->kind == TK_NAME)
    snprintf(buf, sizeof buf, "'%.60s'", t->name);
  else if (t->kind == TK_NUM)
    snprintf(buf, sizeof buf, "number");
  else
    snprintf(buf, sizeof buf, "%s", tok_kind_str(t->kind));
  return buf;
}

static Token *expect(Parser *p, TokKind k, const char *what) {
  if (!at(p, k))
    syntax_error(p, peek(p), "expected %s, saw %s", what, tok_desc(peek(p)));
  return next(p);
}

static int tok_index(Parser *p, Token *t) { return (int)(t - p->tok); }

static Expr *new_expr(Parser *p, ExprKind kind, Token *t) {
  Expr *e = xcalloc(1, sizeof *e);
  e->kind = kind;
  e->tok = tok_index(p, t);
  e->arg = e->local = -1;
  return e;
}

static void enter(Parser *p) {
  if (++p->depth > DCC_MAX_NESTING)
    syntax_error(p, peek(p), "expression nested too deeply (the limit is %d levels)", DCC_MAX_NESTING);
}

static Expr *expr(Parser *p);
static Expr *unary(Parser *p);

/* index := '[' INT ']'  -- a non-negative integer literal */
static int index_literal(Parser *p, int *tokpos) {
  expect(p, TK_LBRACK, "'['");
  Token *t = peek(p);
  if (t->kind != TK_NUM || !t->is_int)
    syntax_error(p, t, "an index must be a non-negative integer literal");
  next(p);
  *tokpos = tok_index(p, t);
  expect(p, TK_RBRACK, "']'");
  return t->ival < 0 ? DCC_MAX_DIM : t->ival;
}

/* primary := NUMBER | NAME index* | NAME '(' (expr (',' expr)*)? ')' | '(' expr ')' */
static Expr *primary(Parser *p) {
  Token *t = peek(p);
  if (t->kind == TK_NUM) {
    next(p);
    return new_expr(p, EX_NUM, t);
  }
  if (t->kind == TK_LPAREN) {
    next(p);
    Expr *e = expr(p);
    expect(p, TK_RPAREN, "')'");
    if (at(p, TK_LBRACK))
      syntax_error(p, peek(p), "only a name can be indexed");
    return e;
  }
  if (t->kind != TK_NAME)
    syntax_error(p, t, "expected an expression, saw %s", tok_desc(t));
  next(p);
  if (at(p, TK_LPAREN)) {
    Token *lp = next(p);
    Expr *e = new_expr(p, EX_CALL, t);
    VEC(Expr *) args = {0};
    VEC(int) starts = {0};
    if (!at(p, TK_RPAREN)) { /* each argument's expr() counts the call's level */
      do {
        vec_push(&starts, p->pos);
        vec_push(&args, expr(p));
      } while (at(p, TK_COMMA) && next(p));
    }
    Token *rp = expect(p, TK_RPAREN, "')' or ','");
    e->args = args.v;
    e->arg_tok = starts.v;
    e->nargs = args.n;
    /* where to point when a call has no arguments at all */
    e->idx_tok[0] = tok_index(p, args.n ? lp : rp);
    if (at(p, TK_LBRACK))
      syntax_error(p, peek(p), "only a name can be indexed");
    return e;
  }
  if (at(p, TK_LBRACK)) {
    Expr *e = new_expr(p, EX_INDEX, t);
    while (at(p, TK_LBRACK)) {
      if (e->nidx == DCC_MAX_RANK)
        syntax_error(p, peek(p), "too many indices: a tensor has at most %d dimensions", DCC_MAX_RANK);
      int pos;
      e->idx[e->nidx] = index_literal(p, &pos);
      e->idx_tok[e->nidx++] = pos;
    }
    return e;
  }
  return new_expr(p, EX_NAME, t);
}

/* power := primary ('^' unary)?   -- right-associative; the exponent may
 * carry a sign: x^-1 */
static Expr *power(Parser *p) {
  Expr *base = primary(p);
  if (!at(p, TK_CARET))
    return base;
  Token *op = next(p);
  Expr *e = new_expr(p, EX_BIN, op);
  e->op = '^';
  e->a = base;
  enter(p);
  e->b = unary(p);
  p->depth--;
  return e;
}

/* unary := ('-' | '+') unary | power */
static Expr *unary(Parser *p) {
  if (at(p, TK_MINUS) || at(p, TK_PLUS)) {
    Token *op = next(p);
    Expr *e = new_expr(p, op->kind == TK_MINUS ? EX_NEG : EX_POS, op);
    enter(p);
    e->a = unary(p);
    p->depth--;
    return e;
  }
  return power(p);
}

/* term := unary (('*' | '/' | '@') unary)* */
static Expr *term(Parser *p) {
  Expr *e = unary(p);
  while (at(p, TK_STAR) || at(p, TK_SLASH) || at(p, TK_AT)) {
    Token *op = next(p);
    Expr *bin = new_expr(p, EX_BIN, op);
    bin->op = op->kind == TK_STAR ? '*' : op->kind == TK_SLASH ? '/' : '@';
    bin->a = e;
    bin->b = unary(p);
    e = bin;
  }
  return e;
}

/* expr := term (('+' | '-') term)* */
static Expr *expr(Parser *p) {
  enter(p);
  Expr *e = term(p);
  while (at(p, TK_PLUS) || at(p, TK_MINUS)) {
    Token *op = next(p);
    Expr *bin = new_expr(p, EX_BIN, op);
    bin->op = op->kind == TK_PLUS ? '+' : '-';
    bin->a = e;
    bin->b = term(p);
    e = bin;
  }
  p->depth--;
  return e;
}

/* dims := ('[' INT ']' ('[' INT ']')?)?   -- sizes are positive */
static Shape dims(Parser *p) {
  Shape s = SCALAR;
  while (at(p, TK_LBRACK)) {
    Token *lb = next(p);
    if (s.rank == DCC_MAX_RANK)
      syntax_error(p, lb, "too many dimensions: a tensor has at most %d", DCC_MAX_RANK);
    Token *t = peek(p);
    if (t->kind != TK_NUM || !t->is_int || t->ival == 0)
      syntax_error(p, t, "a size must be a positive integer literal");
    if (t->ival < 0 || t->ival > DCC_MAX_DIM)
      syntax_error(p, t, "size too large (the limit is %d)", DCC_MAX_DIM);
    next(p);
    s.dim[s.rank++] = t->ival;
    expect(p, TK_RBRACK, "']'");
  }
  return s;
}

/* signed_number := ('-' | '+')* NUMBER */
static double signed_number(Parser *p) {
  double sign = 1;
  while (at(p, TK_MINUS) || at(p, TK_PLUS))
    if (next(p)->kind == TK_MINUS)
      sign = -sign;
  Token *t = expect(p, TK_NUM, "a number");
  return sign * t->num;
}

/* init := signed_number | 'zeros' | 'glorot' ('(' num ',' num ')')?
 *       | 'uniform' '(' num ',' num ')' | 'normal' '(' num ',' num ')' */
static Init init(Parser *p) {
  Init in = {INIT_DEFAULT, 0, 0, p->pos};
  Token *t = peek(p);
  if (t->kind == TK_NUM || t->kind == TK_MINUS || t->kind == TK_PLUS) {
    in.kind = INIT_CONST;
    in.a = signed_number(p);
    return in;
  }
  const char *w = t->kind == TK_NAME ? t->name : "";
  if (!strcmp(w, "zeros")) {
    next(p);
    in.kind = INIT_ZEROS;
  } else if (!strcmp(w, "glorot") || !strcmp(w, "uniform") || !strcmp(w, "normal")) {
    next(p);
    bool glorot = w[0] == 'g';
    in.kind = glorot ? INIT_GLOROT : w[0] == 'u' ? INIT_UNIFORM : INIT_NORMAL;
    if (glorot && !at(p, TK_LPAREN))
      return in;
    if (glorot)
      in.kind = INIT_GLOROT_FANS;
    expect(p, TK_LPAREN, "'('");
    in.a = signed_number(p);
    expect(p, TK_COMMA, "','");
    in.b = signed_number(p);
    expect(p, TK_RPAREN, "')'");
  } else {
    syntax_error(p, t, "expected an initialiser (a number, zeros, glorot, uniform(a, b) or normal(mean, std)), saw %s",
                 tok_desc(t));
  }
  return in;
}

/* decls := NAME dims ('=' init)? (',' NAME dims ('=' init)?)* */
static void decls(Parser *p, Stmt *s) {
  VEC(Decl) ds = {0};
  do {
    Token *name = expect(p, TK_NAME, "a name to declare");
    /* Kept as soon as it has a name, so that a broken initialiser does not
     * make every later use an "unknown name". */
    Decl d = {tok_index(p, name), name->name, SCALAR, {INIT_DEFAULT, 0, 0, -1}};
    vec_push(&ds, d);
    s->decls = ds.v;
    s->ndecls = ds.n;
    Decl *last = &ds.v[ds.n - 1];
    last->shape = dims(p);
    if (at(p, TK_ASSIGN)) {
      Token *eq = next(p);
      if (s->kind == ST_INPUT)
        syntax_error(p, eq, "an input cannot have an initialiser");
      last->init = init(p);
    }
  } while (at(p, TK_COMMA) && next(p));
}

/* Whether a '}' comes before the next def or the end of the file: a
 * statement keyword in a body is then a mistake inside the body, else a
 * sign that the body was left open. */
static bool body_closes_later(Parser *p) {
  for (int i = p->pos; p->tok[i].kind != TK_EOF && (i == p->pos || p->tok[i].kind != TK_DEF); i++)
    if (p->tok[i].kind == TK_RBRACE)
      return true;
  return false;
}

/* One line of a function's body: a named value, or its return, or (body
 * over) its closing brace.  Returns false when the body is over. */
static bool body_line(Parser *p, Stmt *s, Def *d) {
  while (at(p, TK_NEWLINE))
    next(p);
  Token *t = peek(p);
  switch (t->kind) {
  case TK_RBRACE:
    if (!d->ret)
      syntax_error(p, t, "the body of '%s' ends without 'return'", s->name);
    next(p);
    return false;
  case TK_RETURN:
    if (d->ret)
      syntax_error(p, t, "a second 'return' in the body of '%s'", s->name);
    d->ret_tok = tok_index(p, t);
    next(p);
    d->ret = expr(p);
    break;
  case TK_NAME: {
    if (d->ret)
      syntax_error(p, t, "nothing may follow 'return' in the body of '%s'", s->name);
    Stmt local = {ST_ASSIGN, p->pos, NULL, 0, tok_index(p, t), t->name, NULL, NULL, false};
    next(p);
    expect(p, TK_ASSIGN, "'='");
    local.e = expr(p);
    Stmt *v = d->locals;
    d->locals = xrealloc(v, (size_t)(d->nlocals + 1) * sizeof *v);
    d->locals[d->nlocals++] = local;
    break;
  }
  case TK_INPUT: case TK_PARAM: case TK_OUTPUT: case TK_LOSS: case TK_DEF: case TK_EOF:
    if (body_closes_later(p))
      syntax_error(p, t, "a function holds only named values and its 'return', not %s", tok_kind_str(t->kind));
    /* a body left open: the rest of the file is not in it */
    syntax_error(p, t, "%s in the body of '%s': is its '}' missing?",
                 t->kind == TK_EOF ? "the end of the file" : tok_kind_str(t->kind), s->name);
  default:
    syntax_error(p, t, "expected a named value (name = expression) or 'return' in the body of '%s', saw %s", s->name,
                 tok_desc(t));
  }
  if (!at(p, TK_NEWLINE) && !at(p, TK_RBRACE))
    syntax_error(p, peek(p), "expected the end of the line, saw %s", tok_desc(peek(p)));
  return true;
}

/* body := '{' NEWLINE (NAME '=' expr NEWLINE)* 'return' expr NEWLINE '}'
 * A line with an error is skipped, and the body goes on: the errors of
 * independent lines are all reported.  One that ends the body (a
 * statement keyword, the end of the file) ends the def. */
static void body(Parser *p, Stmt *s, Def *d) {
  jmp_buf outer;
  memcpy(outer, p->bail, sizeof outer);
  p->in_body = true;
  while (p->in_body) {
    if (setjmp(p->bail) == 0) {
      p->in_body = body_line(p, s, d);
      continue;
    }
    d->broken = true;
    Token *t = peek(p);
    if ((t->kind == TK_EOF || t->kind == TK_INPUT || t->kind == TK_PARAM || t->kind == TK_OUTPUT ||
         t->kind == TK_LOSS || t->kind == TK_DEF) && !body_closes_later(p)) {
      p->in_body = false;
      break;
    }
    while (!at(p, TK_NEWLINE) && !at(p, TK_EOF) && !at(p, TK_RBRACE))
      next(p);
    if (at(p, TK_RBRACE)) { /* the line ended the body */
      next(p);
      p->in_body = false;
    }
  }
  memcpy(p->bail, outer, sizeof outer);
  p->body_over = true;
  if (d->broken) /* the def is known by name, but never checked */
    longjmp(p->bail, 1);
}

/* def := 'def' NAME '(' (NAME (',' NAME)*)? ')' ('=' expr | body) */
static void def_stmt(Parser *p, Stmt *s) {
  Def *d = xcalloc(1, sizeof *d);
  s->def = d;
  next(p);
  Token *name = expect(p, TK_NAME, "the function's name");
  s->name_tok = tok_index(p, name);
  s->name = name->name;
  expect(p, TK_LPAREN, "'('");
  VEC(int) args = {0};
  if (!at(p, TK_RPAREN))
    do
      vec_push(&args, tok_index(p, expect(p, TK_NAME, "an argument's name")));
    while (at(p, TK_COMMA) && next(p));
  d->arg_tok = args.v;
  d->nargs = args.n;
  expect(p, TK_RPAREN, "')' or ','");
  if (at(p, TK_ASSIGN)) {
    d->ret_tok = p->pos;
    next(p);
    d->ret = expr(p);
    return;
  }
  expect(p, TK_LBRACE, "'=' or '{'");
  body(p, s, d);
}

/* stmt := 'input' decls | 'param' decls | 'output' NAME '=' expr
 *       | 'loss' '=' expr | NAME '=' expr | def */
static void statement(Parser *p, Stmt *s) {
  Token *t = peek(p);
  s->tok = p->pos;
  s->name_tok = -1;
  switch (t->kind) {
  case TK_INPUT:
  case TK_PARAM:
    next(p);
    s->kind = t->kind == TK_INPUT ? ST_INPUT : ST_PARAM;
    decls(p, s);
    break;
  case TK_OUTPUT:
  case TK_NAME: {
    s->kind = t->kind == TK_OUTPUT ? ST_OUTPUT : ST_ASSIGN;
    if (t->kind == TK_OUTPUT)
      next(p);
    Token *name = expect(p, TK_NAME, "a name");
    s->name_tok = tok_index(p, name);
    s->name = name->name;
    expect(p, TK_ASSIGN, "'='");
    s->e = expr(p);
    break;
  }
  case TK_DEF:
    s->kind = ST_DEF;
    def_stmt(p, s);
    break;
  case TK_RETURN:
    syntax_error(p, t, "'return' outside a function's body");
  case TK_LOSS:
    next(p);
    s->kind = ST_LOSS;
    s->name_tok = tok_index(p, t);
    s->name = "loss";
    expect(p, TK_ASSIGN, "'='");
    s->e = expr(p);
    break;
  default:
    syntax_error(p, t, "expected a statement (input, param, output, loss, def or name = expression), saw %s",
                 tok_desc(t));
  }
  if (!at(p, TK_NEWLINE))
    syntax_error(p, peek(p), "expected the end of the statement, saw %s", tok_desc(peek(p)));
}

Program *parse(Source *src, Tokens toks) {
  Program *prog = xcalloc(1, sizeof *prog);
  prog->src = src;
  prog->toks = toks.v;
  prog->ntoks = toks.n;
  /* The parser and each statement live on the heap: longjmp leaves
   * modified automatic variables indeterminate. */
  Parser *p = xcalloc(1, sizeof *p);
  p->prog = prog;
  p->tok = toks.v;
  while (!at(p, TK_EOF)) {
    if (at(p, TK_NEWLINE)) {
      next(p);
      continue;
    }
    Stmt *s = xcalloc(1, sizeof *s);
    p->depth = 0;
    p->body_over = false;
    if (setjmp(p->bail) == 0) {
      statement(p, s);
    } else {
      s->broken = true;
      s->e = NULL;
      /* An error in the first line of a def with a body skips the body
       * too, to its '}'; after a body, body() has stopped where it ends
       * (a keyword of the next statement, when its '}' is missing). */
      bool braced = false;
      for (int i = s->tok; s->kind == ST_DEF && !p->body_over && i < p->pos; i++)
        braced |= p->tok[i].kind == TK_LBRACE;
      while (!at(p, TK_NEWLINE) && !at(p, TK_EOF) && !(p->body_over && at(p, TK_DEF))) {
        if (p->body_over && (at(p, TK_INPUT) || at(p, TK_PARAM) || at(p, TK_OUTPUT) || at(p, TK_LOSS)))
          break;
        braced |= s->kind == ST_DEF && !p->body_over && at(p, TK_LBRACE);
        next(p);
      }
      while (braced && !at(p, TK_EOF) && !at(p, TK_RBRACE))
        next(p);
      if (braced && at(p, TK_RBRACE))
        next(p);
    }
    vec_push(&prog->stmts, *s);
    free(s);
    if (diags.stopped)
      break;
  }
  free(p);
  return prog;
}
