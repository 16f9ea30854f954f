/* dcc.h — the one internal header of dcc, the derivative compiler.
 *
 * A section per file, in pipeline order:
 *   util.c     arena, growable arrays, string maps, source files, diagnostics
 *   lex.c      bytes -> tokens
 *   parse.c    tokens -> AST (every node keeps its token)
 *   check.c    names resolved, shapes known, errors and warnings reported
 *   dag.c      the hash-consed expression DAG (constructors simplify)
 *   simplify.c the rewrite rules the constructors apply
 *   build.c    AST -> the tensor-level DAG
 *   unroll.c   small models' tensors into scalars (the one place that decides)
 *   diff.c     symbolic reverse mode (and -O0's naive forward mode)
 *   lower.c    stable builtins expanded into C-expressible primitives
 *   eval.c     dcc's own evaluator
 *   gradcheck.c  --check (the gradient against finite differences), --eval
 *   sched.c    per emitted function: live nodes, order, temporaries
 *   emit_body.c  each emitted function's body: expressions, loop nests
 *   emit_api.c   the model's C interface: its functions, header, _init
 *   emit_text.c  --emit expr, --emit dot, --stats
 *   weights.c  --weights FILE: the params' values
 *   main.c     the command line and the pipeline
 */
#ifndef DCC_H
#define DCC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ops.h"

#define DCC_VERSION "0.1.0"

/* Limits on input (documented in README.md, "Limits").  Each is checked
 * where it could be exceeded and reported as a diagnostic. */
#define DCC_MAX_FILE_BYTES  (64u << 20) /* 64 MiB of source */
#define DCC_MAX_LINE_BYTES  (1u << 20)  /* 1 MiB on one line */
#define DCC_MAX_NAME_LEN    255         /* characters in an identifier */
#define DCC_MAX_NESTING     4000        /* parentheses, calls, unary signs, ^ (each counts one) */
#define DCC_MAX_DIM         (1 << 20)   /* one dimension of a tensor */
#define DCC_MAX_SCALARS     (1 << 22)   /* scalars in one tensor */
#define DCC_MAX_NODES       (1 << 24)   /* DAG nodes in one model */
#define DCC_MAX_ERRORS      20          /* then dcc stops */
#define DCC_MAX_INLINED     200000      /* calls of functions inlined (each call of a
                                           body's calls counts too) */
#define DCC_MAX_TOKENS      4000000     /* tokens in one file (their memory) */
#define DCC_MAX_OUTPUT      (256u << 20) /* bytes of C, text or DOT written */
#define DCC_O0_MAX_TREE     2000000     /* -O0: nodes in one expanded tree */
#define DCC_O0_MAX_DEPTH    4000        /* -O0: depth of one expanded tree */
#define DCC_O0_MAX_TOTAL    4000000     /* -O0: nodes of every tree (about 48 MB of C) */
#define DCC_NAMES_TABLE_MAX (1 << 18)   /* param scalars with a P_param_names table;
                                           past it P_param_name() spells them */

/* A model whose largest tensor has at most this many scalars is unrolled
 * to straight-line scalar code; a larger one keeps tensor nodes and gets
 * loops (--unroll-limit overrides; README.md, "Loops", gives the
 * measurement behind it). */
#define DCC_UNROLL_LIMIT    64
/* The workspace of an emitted function: past DCC_WS_STACK_BYTES on the
 * stack, a warning (call the _ws variants); past DCC_MAX_WORKSPACE reals,
 * an error. */
#define DCC_WS_STACK_BYTES  16384
#define DCC_MAX_WORKSPACE   (1L << 26)
/* The stack an emitted function takes beyond its values, per call level:
 * saved registers (Cortex-M4F: r4-r11, lr and s16-s31, 100 bytes), the
 * return address, alignment and an unoptimised build's own temporaries
 * (clang -O0 needed 232 bytes more than the values of an unrolled
 * function with 162 locals).  The header's PU_STACK_ macros add it;
 * tests/compiler/cli/resources.test checks them with -fstack-usage. */
#define DCC_FRAME_BYTES     256
/* A function of more statements than this is written in parts of half as
 * many (--split-limit overrides; emit_body.c says why). */
#define DCC_SPLIT_LIMIT     256
#define DCC_STR_(x) #x
#define DCC_STR(x) DCC_STR_(x)

/* ---- util.c ---------------------------------------------------------- */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xprintf(const char *fmt, ...);

/* A growable array of T: struct { T *v; int n, cap; }. */
#define VEC(T) struct { T *v; int n, cap; }
#define vec_push(vec, x)                                                   \
  do {                                                                     \
    if ((vec)->n == (vec)->cap) {                                          \
      (vec)->cap = (vec)->cap ? 2 * (vec)->cap : 8;                        \
      (vec)->v = xrealloc((vec)->v, (size_t)(vec)->cap * sizeof *(vec)->v); \
    }                                                                      \
    (vec)->v[(vec)->n++] = (x);                                            \
  } while (0)

typedef VEC(int) IntVec;

/* A growable string. */
typedef struct {
  char *s;
  size_t len, cap;
} Buf;
void buf_putc(Buf *b, char c);
void buf_puts(Buf *b, const char *s);
void buf_printf(Buf *b, const char *fmt, ...);
void buf_vprintf(Buf *b, const char *fmt, va_list ap);

/* A map from strings to pointers (open addressing, insertion-ordered
 * iteration is not offered: nothing may depend on hash order). */
typedef struct {
  const char **keys;
  void **vals;
  int n, cap;
} StrMap;
void *strmap_get(StrMap *m, const char *key);
void strmap_put(StrMap *m, const char *key, void *val);

/* Decode one UTF-8 sequence at s (n bytes available): its length, 0 if
 * it is not valid UTF-8. */
int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* The bytes of the character at s: a UTF-8 sequence, or 1 for a byte that
 * does not start one (which counts as a character of its own). */
int char_len(const char *s, size_t n);

/* The shortest decimal that reads back as v (as a float if as_float). */
void format_shortest(char *buf, size_t size, double v, bool as_float);

/* Levenshtein distance, for "did you mean". */
int edit_distance(const char *a, const char *b);

/* One source file: its path as the user gave it and its bytes. */
typedef struct {
  const char *path;  /* "<stdin>" for standard input */
  const char *text;  /* NUL-terminated copy; may hold NULs the lexer reports */
  size_t len;
  size_t bom;        /* 3 if the file starts with a byte-order mark */
  int *line_starts;  /* byte offset of each line's first byte */
  int nlines;
} Source;

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagKind;

/* Diagnostics go to stderr as "path:line:col: kind: message", the source
 * line and a caret under the spot.  off is a byte offset into the source,
 * len the length of the token to underline (0 for a caret alone). */
/* A call of a function being checked or built: each diagnostic inside its
 * body is followed by a note at the call (and at the calls that led to
 * it), as gcc and clang report inlined code. */
typedef struct {
  int off, len;      /* the function's name at the call */
  const char *name;
} DiagCall;

typedef struct {
  Source *src;
  bool werror, no_warnings;
  int errors, warnings;
  bool stopped;           /* too many errors: stop reporting */
  VEC(DiagCall) calls;    /* innermost last */
} Diags;
extern Diags diags;

void source_index_lines(Source *src);
void source_line_col(const Source *src, int off, int *line, int *col);
void diag_at(DiagKind kind, int off, int len, const char *fmt, ...);
void diag_push_call(int off, int len, const char *name);
void diag_pop_call(void);
void vdiag_at(DiagKind kind, int off, int len, const char *fmt, va_list ap);

/* ---- lex.c ----------------------------------------------------------- */

typedef enum {
  TK_EOF,     // end of input
  TK_NEWLINE, // end of a statement
  TK_NAME,    // identifier
  TK_NUM,     // number literal
  TK_PLUS,    // +
  TK_MINUS,   // -
  TK_STAR,    // *
  TK_SLASH,   // /
  TK_CARET,   // ^
  TK_AT,      // @
  TK_LPAREN,  // (
  TK_RPAREN,  // )
  TK_LBRACK,  // [
  TK_RBRACK,  // ]
  TK_COMMA,   // ,
  TK_ASSIGN,  // =
  TK_INPUT,   // keyword input
  TK_PARAM,   // keyword param
  TK_OUTPUT,  // keyword output
  TK_LOSS,    // keyword loss
  TK_DEF,     // keyword def
  TK_RETURN,  // keyword return
  TK_LBRACE,  // {
  TK_RBRACE,  // }
  TK_ERROR,   // a character the lexer reported; the parser stays quiet about it
} TokKind;

typedef struct {
  TokKind kind;
  int off, len;   /* bytes in the source */
  double num;     /* TK_NUM: its value */
  bool is_int;    /* TK_NUM: digits only, fits in an int */
  int ival;       /* TK_NUM with is_int */
  char *name;     /* TK_NAME: the identifier */
} Token;

typedef VEC(Token) Tokens;
const char *tok_kind_str(TokKind k);
Tokens lex(Source *src);

/* ---- parse.c --------------------------------------------------------- */

typedef enum {
  EX_NUM,   // number literal
  EX_NAME,  // a name
  EX_INDEX, // name[i] or name[i][j]
  EX_CALL,  // f(args)
  EX_BIN,   // a op b, op one of + - * / ^ @
  EX_NEG,   // -a
  EX_POS,   // +a
} ExprKind;

/* A shape: rank 0 (a scalar) to DCC_MAX_RANK ([n], [m][n], [c][h][w],
 * [o][c][h][w]), row-major; rank -1 after an error.  Only the first
 * rank dimensions mean anything. */
#define DCC_MAX_RANK 4
typedef struct {
  int rank;
  int dim[DCC_MAX_RANK];
} Shape;
int shape_size(Shape s);
long long shape_count(Shape s);      /* the same, without overflow, for checks */
Shape shape_make(int rank, const int *dims);
Shape shape1(int n);                 /* [n] */
Shape shape2(int m, int n);          /* [m][n] */
Shape shape_drop_first(Shape s);     /* [a][b][c] -> [b][c] */
int shape_inner(Shape s);            /* elements per index of the first dimension */
bool shape_eq(Shape a, Shape b);
/* NumPy's broadcast of a and b into *out; false if they do not broadcast. */
bool shape_broadcast(Shape a, Shape b, Shape *out);
const char *shape_str(Shape s);

struct Sym;

typedef struct Expr Expr;
struct Expr {
  ExprKind kind;
  int tok;          /* the token that names it: operator, name, literal */
  char op;          /* EX_BIN: '+', '-', '*', '/', '^' or '@' */
  Expr *a, *b;      /* operands */
  Expr **args;      /* EX_CALL */
  int *arg_tok;     /* EX_CALL: the first token of each argument */
  int nargs;
  int nidx, idx[DCC_MAX_RANK]; /* EX_INDEX */
  int idx_tok[DCC_MAX_RANK];
  /* set by check.c */
  Shape shape;
  struct Sym *sym;  /* EX_NAME, EX_INDEX: a global name; EX_CALL: a function */
  int arg, local;   /* in a function's body, EX_NAME and EX_INDEX: the
                       argument or local it names, else -1 */
  int fn;           /* EX_CALL: index into the builtin table, -1 for a
                       function of the user's */
};

typedef enum {
  INIT_DEFAULT, // none given: glorot for matrices, zeros otherwise
  INIT_CONST,   // = NUMBER
  INIT_ZEROS,   // = zeros
  INIT_GLOROT,  // = glorot, fans from the matrix shape
  INIT_GLOROT_FANS, // = glorot(fan_in, fan_out)
  INIT_UNIFORM, // = uniform(a, b)
  INIT_NORMAL,  // = normal(mean, std)
} InitKind;

typedef struct {
  InitKind kind;
  double a, b;
  int tok;
} Init;

typedef struct {
  int tok;      /* the name */
  char *name;
  Shape shape;
  Init init;
} Decl;

typedef enum {
  ST_INPUT,  // input a, b[3]
  ST_PARAM,  // param w = zeros
  ST_ASSIGN, // name = expr
  ST_OUTPUT, // output name = expr
  ST_LOSS,   // loss = expr
  ST_DEF,    // def f(a, b) = expr, or def f(a, b) { name = expr ... return expr }
} StmtKind;

typedef struct Stmt Stmt;

/* A function: its arguments, its body's named values, its result. */
typedef struct {
  int nargs;
  int *arg_tok;       /* each argument's name */
  Stmt *locals;       /* ST_ASSIGN, in order */
  int nlocals;
  Expr *ret;          /* NULL if the body is broken */
  int ret_tok;        /* 'return', or the '=' of the one-line form */
  bool broken;        /* an error in a line of the body */
} Def;

struct Stmt {
  StmtKind kind;
  int tok;            /* first token */
  Decl *decls;        /* ST_INPUT, ST_PARAM */
  int ndecls;
  int name_tok;       /* ST_ASSIGN, ST_OUTPUT, ST_LOSS, ST_DEF */
  char *name;
  Expr *e;
  Def *def;           /* ST_DEF */
  bool broken;        /* a parse error: e is missing */
};

typedef struct {
  Source *src;
  Token *toks;
  int ntoks;
  VEC(Stmt) stmts;
} Program;

Program *parse(Source *src, Tokens toks);

/* ---- check.c --------------------------------------------------------- */

typedef enum { SYM_INPUT, SYM_PARAM, SYM_VALUE, SYM_OUTPUT, SYM_FUNC } SymKind;

typedef struct Sym {
  char *name;
  SymKind kind;
  Shape shape;
  int tok;           /* where it is defined */
  int line;          /* its source line */
  int offset;        /* inputs, params, outputs: first scalar in its vector */
  Init init;         /* params */
  bool used;         /* referenced by some expression */
  bool broken;       /* its definition had an error */
  int node;          /* build.c: its DAG node, a scalar or a whole tensor */
  int *ids;          /* unroll.c: the DAG node of each scalar, row-major */
  Stmt *def;         /* SYM_FUNC: its def */
  bool frozen;       /* params: --train/--freeze leave it out of the gradient */
  double *weights;   /* params: the values --weights gave, row-major (or NULL) */
  int p_offset;      /* params: the offset in the emitted p[]; -1 for a frozen
                        param that --weights made a constant array */
  int g_offset;      /* params: the offset of its derivatives in grad[] (the
                        trainable params' scalars in p[] order); -1 if frozen */
} Sym;

/* The builtin functions: FN_<NAME> for those of DCC_BUILTINS (ops.h), and
 * FN_COUNT + op for a scalar op the language names (its lang column). */
typedef enum {
#define BUILTIN(name, ...) FN_##name,
  DCC_BUILTINS(BUILTIN)
#undef BUILTIN
  FN_COUNT
} Builtin;
/* A builtin's id by name, or -1. */
int builtin_lookup(const char *name);
const char *builtin_name(int fn);
/* The op that builtin fn is, or -1 if it is one of DCC_BUILTINS. */
int builtin_op(int fn);

typedef VEC(Sym *) SymList;

typedef struct {
  Program *prog;
  SymList syms;        /* in definition order */
  StrMap by_name;
  SymList inputs, params, outputs;
  int n_in, n_params, n_out;
  Stmt *loss;          /* NULL without a loss */
  /* --train/--freeze (main.c).  n_grad: the scalars of the params that
   * are not frozen (n_params without the options). */
  bool subset;         /* --train or --freeze was given */
  int n_grad;
  /* --weights (weights.c): every param has its values; with a subset the
   * frozen ones leave p[] (model_place_params), whose size is n_p. */
  bool weights;
  int n_p;
} Model;

Model *check(Program *prog);
Sym *model_lookup(Model *m, const char *name);
/* Whether param scalar j (its index in p[]) is frozen (--train/--freeze). */
bool model_frozen_scalar(const Model *m, int j);
/* The param that scalar j of the model's params is part of. */
Sym *model_param_at(const Model *m, int j);
/* Where the params go in the emitted p[] (Sym.p_offset, Model.n_p): all
 * of them, or with --weights and --train/--freeze the trainable ones; and
 * where the trainable ones' derivatives go in grad[] (Sym.g_offset,
 * Model.n_grad).  Again after Sym.frozen changes. */
void model_place_params(Model *m);

/* ---- weights.c ------------------------------------------------------- */

/* --weights: reads every param's values from the file at path into
 * Sym.weights; 0, or after messages 1 (the file's content is wrong) or 2
 * (it cannot be read). */
int read_weights(Model *m, const char *path, const char *model_path);

/* ---- dag.c ----------------------------------------------------------- */

typedef struct {
  uint8_t op;
  uint8_t nops;
  int32_t a[4];  /* operand ids, all smaller than this node's id */
  int32_t aux;   /* convolutions: the padding */
  int32_t index; /* INPUT, PARAM: the first scalar's index in in[] / p[];
                    INDEX, ROW, SCATTER, SCATROW: the element or row */
  double val;    /* CONST */
  Shape shape;   /* a scalar, or the tensor the node is */
  int loc;       /* byte offset of the source that first made it, -1 if none */
} Node;

typedef struct {
  Node *nodes;
  int n, cap;
  int32_t *table;   /* hash table of node ids, -1 empty */
  int tcap;
  bool hashcons;    /* false for -O0: every constructor call makes a node */
  bool simplify;    /* false for -O0 */
  int loc;          /* the source spot new nodes and errors are blamed on */
  bool overflow;    /* DCC_MAX_NODES reached (reported once) */
  bool rediff;      /* a loop's derivative differentiated again (reported once) */
  int nloops;       /* regions of recurrence made so far (loop.c) */
} Dag;

extern const Shape SCALAR;

Dag *dag_new(bool optimise);
int dag_const(Dag *d, double v);
int dag_leaf(Dag *d, Op op, int index);
/* An input or param tensor whose first scalar is in[index] / p[index]. */
int dag_tensor_leaf(Dag *d, Op op, int index, Shape shape);
int dag_op(Dag *d, Op op, int a, int b, int c, int e);
/* Any node: the rules, then dag_make; shape is the node's (dag_op infers
 * it from the operands; FILL, SCATTER and SCATROW are given theirs).  A
 * rule that gives a scalar where a tensor was asked for is broadcast. */
int dag_node(Dag *d, Op op, const int *ops, int index, Shape shape);
/* the constructor below the rules: canonical operand order, hash-consing */
int dag_make(Dag *d, Op op, const int *ops, double val, int index, Shape shape);
/* the same two with a node's second integer, aux */
int dag_node_aux(Dag *d, Op op, const int *ops, int index, int aux, Shape shape);
int dag_make_aux(Dag *d, Op op, const int *ops, double val, int index, int aux, Shape shape);
int dag_un(Dag *d, Op op, int a);
int dag_bin(Dag *d, Op op, int a, int b);
int dag_fill(Dag *d, int scalar, Shape shape);
int dag_index(Dag *d, int tensor, int k);
int dag_row(Dag *d, int matrix, int r);
/* x stretched to shape (NumPy's rule; x itself if it has that shape) */
int dag_bcast(Dag *d, int x, Shape shape);
/* x's elements in shape (x itself if it has that shape) */
int dag_reshape(Dag *d, int x, Shape shape);
/* a convolution or pooling node (conv.c): op on a and b (pooling: b -1),
 * stride (or window) and padding given, in shape */
int dag_conv(Dag *d, Op op, int a, int b, int stride, int pad, Shape shape);
/* rows start .. start + rows - 1 of x's first dimension (x itself if all) */
int dag_slice(Dag *d, int x, int start, int rows);
/* s without dimension dim */
Shape shape_without(Shape s, int dim);
/* x's element at the first largest of t along dimension dim (t and x of
 * one shape); amax(t, dim) is dag_atmax(d, t, t, dim) */
int dag_atmax(Dag *d, int t, int x, int dim);
/* t's shape: g's element at the first largest of t along dim, else 0 */
int dag_unmax(Dag *d, int t, int g, int dim);
/* x summed along dimension dim (of a vector: its sum) */
int dag_sumd(Dag *d, int x, int dim);
/* g summed over the dimensions that shape stretches to g's: the adjoint of
 * a broadcast to g's shape from shape */
int dag_sum_to(Dag *d, int g, Shape shape);
/* The shape op gives to its operands (FILL, SCATTER, SCATROW: not
 * defined by them). */
Shape infer_shape(Dag *d, Op op, const int *ops);
/* Whether op applies to each element of its tensor operands (every op but
 * the leaves and the TENSOR kind). */
bool op_is_elementwise(Op op);
bool dag_is_const(const Dag *d, int id, double v);
bool is_tensor(Dag *d, int id);
/* Mark the nodes roots reach in live[] (d->n entries, zeroed by the caller)
 * and, if uses is not NULL, count each node's references: by live users
 * and by roots. */
void dag_reach(Dag *d, const int *roots, int n, bool *live, int *uses);
#define NODE(d, id) (&(d)->nodes[(id)])

/* ---- view.c ------------------------------------------------------------ */

/* An index into a tensor's elements: the number k (text NULL), or C text
 * over loop variables.  Functions that take an Ix by value consume it. */
typedef struct {
  long k;
  char *text;
  /* or text is hi * split + lo, 0 <= lo < split: an elementwise loop over
   * blocks (emit_elementwise), which dividing by a multiple of split, or
   * taking the remainder by a divisor of it, sees through */
  char *hi, *lo;
  long split;
} Ix;
Ix ix_num(long k);
Ix ix_split(const char *hi, long split, const char *lo);
Ix ix_text(const char *text);
Ix ix_copy(Ix x);
void ix_free(Ix x);
char *ix_str(Ix x);                      /* as C text, malloc'd */
Ix ix_plus(long base, Ix x);             /* base + x */
Ix ix_rowcol(Ix row, long ncols, Ix col); /* row * ncols + col */
Ix ix_mul(Ix x, long c);                 /* x * c */
Ix ix_div(Ix x, long c);                 /* x / c */
Ix ix_mod(Ix x, long c);                 /* x % c */
Ix ix_sum(Ix a, Ix b);                   /* a + b */

/* An element of a tensor: its flat row-major index (n = 1) or one index
 * per dimension (n = its rank). */
typedef struct {
  int n;
  Ix at[DCC_MAX_RANK];
} Elem;
Elem elem_flat(Ix x);
Elem elem_2d(Ix row, Ix col);
void elem_free(Elem e);
Ix elem_offset(Shape s, Elem e);         /* its flat index in shape s */
/* The element of view id's operand that element e of the view is (every
 * view's formula, for every back end). */
Elem view_elem(const Dag *d, int id, Elem e);
/* The same for a flat element number: the operand's flat element number. */
long view_elem_num(const Dag *d, int id, long k);
/* Slice o of a reduction along dimension k of shape xs: elements first +
 * t * stride, t < n. */
void slice_at(Shape xs, int k, int o, int *first, int *n, int *stride);
/* Element k of shape sh as a suffix: "[0][1]" with brackets, else "_0_1". */
const char *elem_suffix(Shape sh, int k, char *buf, size_t n, bool brackets);

/* ---- conv.c ------------------------------------------------------------- */

/* The geometry of a convolution or pooling node (1-D: H = KH = 1). */
typedef struct ConvGeom {
  int dims;              /* 1 or 2 */
  bool depthwise, pool;  /* each channel alone; a pooling */
  int C, H, W;           /* the input: channels, rows, columns */
  int O, OH, OW;         /* the output */
  int KH, KW;            /* a kernel, or a pooling's window */
  int stride, ph, pw;    /* the padding of rows and of columns */
} ConvGeom;
ConvGeom conv_geom(const Dag *d, const Node *nd);
bool op_is_conv(Op op); /* one of the convolution and pooling families */
int conv_out_size(int n, int k, int stride, int pad);
/* One term of a convolution: output (o, y, x) and input (c, iy, ix) meet
 * at kernel offset (i, j). */
typedef void ConvTerm(void *ctx, const ConvGeom *g, int o, int y, int x, int c, int i, int j, int iy, int ix);
/* Every term whose input element is in range, in the loops' order. */
void conv_each(const ConvGeom *g, ConvTerm *f, void *ctx);
/* Flat indices of an input, an output and a kernel element. */
int conv_in_at(const ConvGeom *g, int c, int iy, int ix);
int conv_out_at(const ConvGeom *g, int o, int y, int x);
int conv_k_at(const ConvGeom *g, int o, int c, int i, int j);

/* ---- loop.c ----------------------------------------------------------- */

/* The regions of a DAG's recurrences.  fold(f, init, xs) and scan build
 * f's body once, on a CARRY (the state at a step) and a STEP (the step's
 * row of xs): the nodes that depend on them are the loop's forward region,
 * run n times by its FOLD or SCAN node (the anchor).  A reverse sweep
 * through the loop makes an ADJ (the adjoint of the state after a step)
 * and differentiates the body once: the nodes that depend on the ADJ are
 * its backward region, run from the last step to the first by its BPTT
 * node, which also makes the sweep's LOOPSUM (a contribution summed over
 * the steps) and LOOPSTACK (one per step) nodes.  Every other node is
 * outside every region.  Regions are numbered by Dag.nloops. */
typedef struct {
  int n;       /* regions */
  int *of;     /* per node: its region, -1 outside */
  int *anchor; /* per region: its FOLD, SCAN or BPTT node, -1 if none */
  int *fwd;    /* per region: the forward region a backward one reverses, -1 for a forward one */
  int *leaf;   /* per region: its CARRY (forward) or ADJ (backward) node, -1 if none */
  int *step;   /* per forward region: its STEP node, -1 if none */
} Regions;
Regions regions_find(const Dag *d);
void regions_free(Regions *r);
bool op_is_loop(Op op); /* FORM_LOOP: made and run by the loop machinery */
bool dag_has_loops(const Dag *d); /* a FOLD or SCAN node */
/* A loop's number of steps and state shape (FOLD, SCAN or BPTT node). */
int loop_steps(const Dag *d, int anchor);
Shape loop_state(const Dag *d, int anchor);

/* ---- simplify.c ------------------------------------------------------ */

/* The rewrite rules for op applied to ops: a node id if a rule fires, -1 if
 * none does (dag_op then makes the node as it is). */
int simplify(Dag *d, Op op, const int *ops, int index);

/* ---- build.c --------------------------------------------------------- */

/* A model on the DAG.  The per-scalar tables (out_ids, param_leaf,
 * input_leaf, param_grad, input_grad) are indexed by a scalar's offset in
 * its vector.  With loops, a tensor is one node, kept at its first
 * scalar's offset (the other entries unused); after unroll() every scalar
 * has its own node: value_count() says how many a Sym has. */
typedef struct {
  Model *m;
  Dag *dag;
  bool loops;              /* tensors stay whole: emitted as loops */
  int loss;                /* node id, -1 without a loss */
  int *out_ids;            /* n_out */
  int *param_leaf;         /* n_params: the PARAM node of each scalar */
  int *input_leaf;         /* n_in */
  /* the gradient of the loss (diff.c): with respect to each param scalar,
   * and each input scalar that --wrt names (-1 for the others) */
  int *param_grad;         /* n_params */
  int *input_grad;         /* n_in */
  /* what has a gradient function: every param, then the inputs --wrt
   * names, in declaration order */
  SymList diff_syms;
  /* the named values of function bodies, one Sym per call of a function
   * and value of its body (built by build_user_call, in that order) */
  SymList locals;
  /* names of nodes, for readable output: the Sym and element of the first
   * named value (or output) that is this node (element -1: all of it) */
  Sym **node_sym;          /* indexed by node id, grown with the DAG */
  int *node_elem;
  int names_cap;
  /* sched.c's per-node arrays, made once and handed to each function's
   * schedule in turn (sched.c says why) */
  struct SchedPool *sched_pool;
} Built;

Built *build(Model *m, Dag *d);
void built_name_nodes(Built *b);
/* The model's Syms, then the function bodies' named values (b->locals):
 * what names nodes and what unroll() and built_remap() carry over. */
int built_syms(const Built *b);
Sym *built_sym(const Built *b, int i);
/* How many nodes hold s's value in the per-scalar tables: 1 for a scalar
 * or a whole tensor (loops), one per scalar once unrolled. */
int value_count(const Built *b, const Sym *s);
/* An input's or param's nodes in the leaf tables, and in the gradient
 * tables (value_count of them). */
int *leaf_nodes(Built *b, const Sym *s);
int *grad_nodes(Built *b, const Sym *s);
/* Carry every root, table and name over through map (old id -> new id,
 * for every id below the DAG's size when map was made). */
void built_remap(Built *b, const int *map);

/* ---- unroll.c -------------------------------------------------------- */

/* The scalars in the largest tensor a model's DAG holds (1 if none): what
 * decides between unrolled code and loops. */
int largest_tensor(Built *b);
/* Unroll every tensor node of the DAG into scalar nodes (dead ones too:
 * small models only come here): afterwards every Sym has sym->ids and
 * every per-scalar table of b has a node per scalar.  Scalar nodes whose
 * operands do not change keep their ids. */
void unroll(Built *b);

/* ---- diff.c ---------------------------------------------------------- */

/* Reverse mode: the adjoints of every node reachable from root, seeded with
 * 1 at root.  Returns an array indexed by node id (size d->n at the call),
 * -1 where a node has no adjoint (does not influence root). */
int *diff_reverse(Dag *d, int root);
/* The same, for the nodes that have a node want[] marks (indexed by id)
 * among their operands, or are one; -1 for every other node. */
int *diff_reverse_to(Dag *d, int root, const bool *want);
/* -O0: the seeds' forward-mode derivative of root with respect to leaf,
 * no simplification, no sharing. */
int diff_forward(Dag *d, int root, int leaf);
/* The gradient of b's loss, by one reverse sweep, into b->param_grad and
 * b->input_grad (for the inputs wrt[] marks, indexed like m->inputs). */
void differentiate(Built *b, const bool *wrt);
/* -O0: the model built again without simplification, unrolled and lowered,
 * its gradient one forward-mode tree per scalar; NULL after a diagnostic
 * when a tree is too big to print. */
Built *naive_model(Model *m, const bool *wrt);
/* A warning for each param the loss does not depend on, and one for a
 * loss when no param is declared (and --wrt names no input). */
void warn_independent_params(Built *b);

/* ---- lower.c --------------------------------------------------------- */

/* Lower every node of b's DAG so that every op has a C spelling (sigmoid
 * and softplus become exp/log1p forms that share one exp), and carry b's
 * roots and names over to the lowered nodes. */
void lower(Built *b);

/* ---- eval.c ---------------------------------------------------------- */

/* dcc's own evaluator, in double, on b's DAG (before lower(): each op's
 * value is its row's in ops.h). */
typedef struct Evaluator Evaluator;
Evaluator *evaluator_new(Built *b);
/* The loss at in[], p[] (NaN without a loss); with grad not NULL also its
 * gradient, m->n_params values in p[]'s order. */
double evaluator_run(Evaluator *ev, const double *in, const double *p, double *grad);
/* Which side of each kink (a select: relu, max, ...; abs) the last run
 * took, hashed: a finite difference whose two points differ in it from
 * the point straddles a kink. */
uint64_t evaluator_branches(const Evaluator *ev);
/* The scalar operations of one evaluation of the loss alone, about. */
double evaluator_loss_work(const Evaluator *ev);
void evaluator_free(Evaluator *ev);

/* ---- gradcheck.c ------------------------------------------------------ */

/* --check's outcomes, which are dcc's exit status. */
typedef enum { CHECK_OK = 0, CHECK_FAILED = 1, CHECK_INCONCLUSIVE = 3 } CheckResult;

/* --check: the symbolic gradient against finite differences of the loss
 * with dcc's evaluator at points that fit the model; prints a report on
 * out. */
CheckResult check_gradients(Built *b, FILE *out);
/* --eval: the loss and gradient at each point of the file at path (a line
 * of n_in inputs then n_params params), one line each on out; false after
 * an error message. */
bool eval_points(Built *b, const char *path, FILE *out);

/* ---- sched.c --------------------------------------------------------- */

typedef struct Root Root;

typedef struct {
  int *order;      /* nodes that get a statement, in id order */
  int norder;
  char **name;     /* indexed by node id: the C name of a temporary or
                      local, NULL if inlined (filled in by the emitter) */
  bool *live;      /* indexed by node id */
  bool uses_in, uses_p;
  int ntemps;
  /* loops: where each tensor that gets a statement is stored */
  long *ws_off;    /* indexed by node id: offset in the workspace, or -1 */
  int *root_of;    /* indexed by node id: the root whose dst stores it, or -1 */
  int *sum_into;   /* indexed by node id: the sweep's LOOPSUM this outer
                      product adds itself into at each step, or -1 */
  int *epilogue;   /* indexed by node id: the deferred gradient whose update
                      an outer product's loop makes (no statement), or -1 */
  int *in_place;   /* indexed by node id: the elementwise statement whose
                      storage it is written in first, then read in place by
                      that statement's loop, or -1 */
  long ws_size;    /* reals of workspace the function needs */
  /* _sgd_step: nodes whose loop is the in-place update of a param, emitted
   * after every read of the params (indexed by node id) */
  bool *deferred;
  /* loops: the matrix-vector product whose row sums are computed in this
   * stored elementwise node's own loop, never stored (indexed by node id:
   * the product's id, or -1) */
  int *fused_product;
  /* recurrence (loop.c): order[] holds the nodes outside every region,
   * anchors included; each region's statements are its own, run by its
   * anchor at every step */
  Regions R;
  struct RegionPlan *rp; /* per region */
  long *slot;      /* indexed by node id: a saved value's offset in its
                      region's per-step record, or -1 */
  int *ids;        /* the live nodes, in id order: what the function's
                      planning walks (a model's thousands of _grad_
                      functions each reach a small part of the DAG) */
  int nids;
  IntVec locals;   /* the live scalar inputs and params read into a local
                      at the top: inputs, then params, in declaration order */
  Sym **leaf_sym;  /* indexed by node id: the scalar input or param whose
                      leaf it is (a local of its own), or NULL */
  struct SchedPool *pool; /* where the per-node arrays come from */
} Schedule;

/* What a region's anchor emits at each step (sched.c plans it). */
typedef struct RegionPlan {
  IntVec order;    /* the region's nodes that get a statement, in id order */
  bool live;       /* its anchor is live */
  long scratch;    /* ws offset of what lives within one step (ws_off of
                      its tensors are absolute) */
  /* a forward region: */
  bool taped;      /* a live sweep reads its steps back: kept per step */
  long states;     /* ws offset: taped fold, the n + 1 states; fold, two
                      states in turn; scan, the initial state (taped or not) */
  long tape;       /* ws offset of the per-step records of saved values */
  long stride;     /* reals per record */
  bool body_in_next; /* the body is a stored tensor, written where the next state goes */
  /* every region: */
  bool reads_carry; /* its loop reads the state before the step */
  IntVec loads;    /* a backward region: the saved values it reads, in id order */
} RegionPlan;

Schedule *schedule_make(Built *b, Root *roots, int nroots, bool o0);
void schedule_free(Schedule *s);
/* Where the live nodes after node id start in s->ids (s->nids if none). */
int schedule_live_after(const Schedule *s, int id);

/* ---- emit_body.c -------------------------------------------------------- */

/* What the emitter of one model knows: the prefix of every symbol ("net"),
 * its upper-case form for macros ("NET"), the real type ("net_real"). */
typedef struct {
  const char *P;
  char *PU;
  char *R;
  bool is_float;
  bool o0;
  Built *b;   /* lowered; the unsimplified DAG with -O0 */
  long split_limit; /* --split-limit (emit_body.c, "a long function in parts") */
} Emit;

/* Where param scalar j of the model is read: "p", or a frozen param's
 * constant array (name written to buf); *at gets the index into it. */
const char *param_array(const Emit *E, int j, int *at, char *buf, size_t size);

/* A value one function computes and where it goes. */
struct Root {
  int node;    /* the value */
  char *dst;   /* where it goes: a C lvalue for a scalar ("grad[3]"), a
                  pointer for a tensor ("grad + 8"); NULL: return it */
  char *name;  /* a tensor's: what to call it if nothing else names it
                  ("d_W1"), or NULL */
  char *param; /* _sgd_step: the param this gradient updates in place,
                  dst its slice of p: dst -= lr * value; else NULL */
};
typedef VEC(Root) RootVec;

/* The body of one function, written once. */
typedef struct {
  Schedule *s;
  char *text;   /* the statements between its braces */
  int locals;   /* its scalar locals (the comment above it counts them) */
  long stack;   /* bytes of stack by dcc's accounting (the _STACK_ macros) */
  /* a long function (more than split_limit statements): the bodies of
   * its parts, static functions P_part_NAME_1.. that take its parameters
   * (and ws), and sc[sc_size] if sc_size, called in turn by text */
  char **pieces;
  int npieces;
  long sc_size;
  char *kernels; /* its loops that are static functions of their own, NULL: none */
} FuncBody;

/* fname: the function's name after the prefix ("loss_grad"); args: its
 * parameters' names as it passes them on ("in, p, grad"). */
FuncBody plan_body(const Emit *E, Root *roots, int nroots, const char *outparam, const char *fname, const char *args);
/* Whether op's loop nest can itself be _sgd_step's update of a param
 * (N -= lr * v as it computes v): sched.c defers only those. */
bool emit_updates_in_place(Op op);
void emit_real_const(Buf *out, double v, bool is_float);
/* A C local's name after user's, unique among used and free of C's and
 * the emitted code's reserved names: "h", "int_", "v2_h_". */
char *local_name(StrMap *used, const char *user, const char *prefix);

/* ---- emit_api.c ---------------------------------------------------------- */

typedef struct {
  const char *prefix;      /* "net" */
  const char *src_name;    /* the input path as given, for the banner */
  const char *header_name; /* what the source #includes, NULL: self-contained */
  bool is_float;
  bool o0;
  Built *b;                /* lowered; the unsimplified DAG with -O0 */
  long split_limit;        /* --split-limit: statements before a function is
                              written in parts; 0: never */
} EmitOpts;

typedef struct Function Function;

/* The model's C, planned: every function scheduled and its body written,
 * once; the header, the source and main.c's checks read it. */
typedef struct {
  EmitOpts *o;
  Emit E;
  VEC(Function) fs;
  long workspace;            /* reals: the largest function's ws */
  long max_stack;            /* bytes: the largest function's stack */
  const char *max_stack_fn;  /* its name after the prefix */
  uint64_t header_hash;      /* emit_header's PU_HEADER_HASH, which the source checks */
} Code;

Code *plan_code(EmitOpts *o);
/* The header first when the source includes it: the source checks its hash. */
void emit_header(Buf *out, Code *c);
void emit_source(Buf *out, Code *c);

/* ---- emit_text.c ----------------------------------------------------- */

void emit_expr(Buf *out, Built *b);
void emit_dot(Buf *out, Built *b);

/* Counts as doubles: the naive trees' pass 2^64 (exact below 2^53). */
typedef struct {
  double nodes;
  double ops[OP_COUNT];
} OpCounts;
void count_tree(Dag *d, const int *roots, int n, OpCounts *c);
void count_dag(Dag *d, const int *roots, int n, OpCounts *c);
/* --stats: the naive computation's operation counts against _loss_grad's,
 * on f (README.md, --stats, says what "naive" is). */
void print_operation_counts(FILE *f, Built *b, const char *prefix);
/* -O0 size checks: depth and size of the expanded tree of one root */
void tree_measure(Dag *d, int root, double *size, int *depth);
/* A count in decimal, or as 1.23e+45 past 10^15: into buf, returned. */
char *count_text(double n, char buf[32]);

#endif
