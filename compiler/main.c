/* main.c — the command line, and the pipeline:
 *
 *   read -> lex -> parse -> check -> build (DAG) -> unroll (small models)
 *        -> diff -> lower -> emit (loops for the others)
 *
 * Exit status: 0 success, 1 errors in the input, 2 usage or I/O errors.
 * Output files are written whole or not at all: each goes to a temporary
 * file beside it, renamed over it only when everything succeeded. */
#include "dcc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { EMIT_C, EMIT_H, EMIT_EXPR, EMIT_DOT } EmitKind;

typedef struct {
  const char *input;     /* path, "-" for standard input */
  const char *output;    /* -o, NULL for standard output */
  const char *header;    /* --header */
  bool no_header;
  const char *prefix;
  bool is_float;
  const char *wrt;       /* --wrt a,b */
  bool o0;
  long unroll_limit;     /* --unroll-limit */
  long max_stack;        /* --max-stack, bytes; -1: none */
  EmitKind emit;
  bool stats, check;
} Options;

static const char usage_text[] =
    "usage: dcc [options] FILE.expr      (FILE '-' reads standard input)\n"
    "\n"
    "Compile a loss written in the .expr language into C that computes it and\n"
    "its gradient with respect to every param.\n"
    "\n"
    "options:\n"
    "  -o FILE            write to FILE (default: standard output); for C, the\n"
    "                     header goes beside it (FILE.c -> FILE.h); -o - writes\n"
    "                     the source to standard output and no header\n"
    "  --header FILE      write the header to FILE\n"
    "  --no-header        no header: the source declares what it needs itself\n"
    "  --prefix NAME      prefix of every emitted symbol (default: the input's\n"
    "                     base name made into a C identifier)\n"
    "  --real double|float  the real type of the emitted code (default double)\n"
    "  --wrt a,b,...      also emit a gradient function for each named input\n"
    "  -O0                no simplification, no common subexpressions: the\n"
    "                     naive derivative, one tree per gradient\n"
    "  --max-stack BYTES  fail if an emitted function takes more stack than\n"
    "                     BYTES (dcc's accounting: the header's _STACK_ macros)\n"
    "  --unroll-limit N   unroll a model to scalar code when its largest tensor\n"
    "                     has at most N scalars, else emit loops (default "DCC_STR(DCC_UNROLL_LIMIT)")\n"
    "  --emit c|h|expr|dot  what to write: C source (default), the header only,\n"
    "                     the loss and derivatives as text, the DAG as DOT\n"
    "  --stats            print operation counts before and after optimisation\n"
    "                     to standard error\n"
    "  --check            check the gradient against finite differences with\n"
    "                     dcc's own evaluator (no C compiler); exit 1 if off\n"
    "  -Werror            make warnings errors\n"
    "  -w                 silence warnings\n"
    "  --help             print this help\n"
    "  --version          print the version\n";

static _Noreturn void usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("dcc: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs("\nusage: dcc [options] FILE.expr (dcc --help lists the options)\n", stderr);
  exit(2);
}

static bool is_identifier(const char *s) {
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
      return false;
  return true;
}

/* An option's value: "--opt VALUE" or "--opt=VALUE". */
static const char *option_value(int argc, char **argv, int *i, const char *name) {
  size_t n = strlen(name);
  if (argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if (*i + 1 >= argc)
    usage_error("option '%s' needs a value", name);
  return argv[++*i];
}

/* An option's value that is a count (of `unit`): a decimal number >= 0. */
static long option_count(int argc, char **argv, int *i, const char *name, const char *unit) {
  const char *v = option_value(argc, argv, i, name);
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (end == v || *end || errno || n < 0)
    usage_error("%s takes a number of %s, not '%s'", name, unit, v);
  return n;
}

static bool option_is(const char *arg, const char *name) {
  size_t n = strlen(name);
  return !strncmp(arg, name, n) && (arg[n] == 0 || (arg[n] == '=' && name[1] == '-'));
}

static Options parse_options(int argc, char **argv) {
  Options o = {0};
  o.unroll_limit = DCC_UNROLL_LIMIT;
  o.max_stack = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage_text, stdout);
      exit(0);
    } else if (!strcmp(a, "--version")) {
      printf("dcc %s\n", DCC_VERSION);
      exit(0);
    } else if (option_is(a, "-o")) {
      o.output = option_value(argc, argv, &i, "-o");
    } else if (option_is(a, "--header")) {
      o.header = option_value(argc, argv, &i, "--header");
    } else if (!strcmp(a, "--no-header")) {
      o.no_header = true;
    } else if (option_is(a, "--prefix")) {
      o.prefix = option_value(argc, argv, &i, "--prefix");
      if (!is_identifier(o.prefix))
        usage_error("--prefix '%s' is not a C identifier", o.prefix);
    } else if (option_is(a, "--real")) {
      const char *v = option_value(argc, argv, &i, "--real");
      if (strcmp(v, "double") && strcmp(v, "float"))
        usage_error("--real takes 'double' or 'float', not '%s'", v);
      o.is_float = !strcmp(v, "float");
    } else if (option_is(a, "--wrt")) {
      o.wrt = option_value(argc, argv, &i, "--wrt");
    } else if (!strcmp(a, "-O0")) {
      o.o0 = true;
    } else if (option_is(a, "--max-stack")) {
      o.max_stack = option_count(argc, argv, &i, "--max-stack", "bytes");
    } else if (option_is(a, "--unroll-limit")) {
      o.unroll_limit = option_count(argc, argv, &i, "--unroll-limit", "scalars");
    } else if (option_is(a, "--emit")) {
      const char *v = option_value(argc, argv, &i, "--emit");
      if (!strcmp(v, "c"))
        o.emit = EMIT_C;
      else if (!strcmp(v, "h"))
        o.emit = EMIT_H;
      else if (!strcmp(v, "expr"))
        o.emit = EMIT_EXPR;
      else if (!strcmp(v, "dot"))
        o.emit = EMIT_DOT;
      else
        usage_error("--emit takes c, h, expr or dot, not '%s'", v);
    } else if (!strcmp(a, "--stats")) {
      o.stats = true;
    } else if (!strcmp(a, "--check")) {
      o.check = true;
    } else if (!strcmp(a, "-Werror")) {
      diags.werror = true;
    } else if (!strcmp(a, "-w")) {
      diags.no_warnings = true;
    } else if (a[0] == '-' && a[1] != 0) {
      usage_error("unknown option '%s'", a);
    } else if (o.input) {
      usage_error("more than one input file ('%s' and '%s')", o.input, a);
    } else {
      o.input = a;
    }
  }
  if (!o.input)
    usage_error("no input file");
  return o;
}

/* ---- reading and writing files ------------------------------------------ */

static Source *read_source(const char *path) {
  Source *src = xcalloc(1, sizeof *src);
  bool is_stdin = !strcmp(path, "-");
  src->path = is_stdin ? "<stdin>" : path;
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "dcc: error: cannot open '%s': %s\n", path, strerror(errno));
    exit(2);
  }
  Buf b = {0};
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (b.len + n > DCC_MAX_FILE_BYTES) {
      fprintf(stderr, "%s: error: the file is too large (the limit is %u bytes)\n", src->path,
              (unsigned)DCC_MAX_FILE_BYTES);
      exit(1);
    }
    if (b.len + n + 1 > b.cap) {
      while (b.len + n + 1 > b.cap)
        b.cap = b.cap ? 2 * b.cap : 65536;
      b.s = xrealloc(b.s, b.cap);
    }
    memcpy(b.s + b.len, chunk, n);
    b.len += n;
  }
  if (ferror(f)) {
    fprintf(stderr, "dcc: error: cannot read '%s': %s\n", path, strerror(errno));
    exit(2);
  }
  if (!is_stdin)
    fclose(f);
  if (!b.s)
    b.s = xcalloc(1, 1);
  b.s[b.len] = 0;
  src->text = b.s;
  src->len = b.len;
  if (b.len >= 3 && !memcmp(b.s, "\xEF\xBB\xBF", 3))
    src->bom = 3;
  source_index_lines(src);
  return src;
}

typedef struct {
  const char *path;
  char *tmp;        /* NULL: written in place (not a regular file) */
  const Buf *data;
} Staged;

/* Write data to a new temporary file beside path, to be renamed over it.
 * A path that exists and is not a regular file (/dev/null, a pipe) cannot
 * be replaced: it is written directly, at commit. */
static Staged stage(const char *path, const Buf *data) {
  Staged s = {path, NULL, data};
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    return s;
  s.tmp = xprintf("%s.dcc-XXXXXX", path);
  int fd = mkstemp(s.tmp);
  if (fd < 0) {
    fprintf(stderr, "dcc: error: cannot write '%s': %s\n", path, strerror(errno));
    exit(2);
  }
  mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  size_t off = 0;
  while (off < data->len) {
    ssize_t w = write(fd, data->s + off, data->len - off);
    if (w <= 0) {
      fprintf(stderr, "dcc: error: cannot write '%s': %s\n", path, strerror(errno));
      close(fd);
      unlink(s.tmp);
      exit(2);
    }
    off += (size_t)w;
  }
  if (close(fd)) {
    fprintf(stderr, "dcc: error: cannot write '%s': %s\n", path, strerror(errno));
    unlink(s.tmp);
    exit(2);
  }
  return s;
}

/* Files written in place go first: if one fails, no file has changed yet
 * (the temporaries are removed). */
static void commit(Staged *files, int n) {
  for (int i = 0; i < n; i++) {
    if (files[i].tmp)
      continue;
    FILE *f = fopen(files[i].path, "wb");
    bool ok = f && fwrite(files[i].data->s, 1, files[i].data->len, f) == files[i].data->len;
    if (f && fclose(f))
      ok = false;
    if (!ok) {
      fprintf(stderr, "dcc: error: cannot write '%s': %s\n", files[i].path, strerror(errno));
      for (int j = 0; j < n; j++)
        if (files[j].tmp)
          unlink(files[j].tmp);
      exit(2);
    }
  }
  for (int i = 0; i < n; i++) {
    if (files[i].tmp && rename(files[i].tmp, files[i].path)) {
      fprintf(stderr, "dcc: error: cannot write '%s': %s\n", files[i].path, strerror(errno));
      for (int j = i; j < n; j++)
        if (files[j].tmp)
          unlink(files[j].tmp);
      exit(2);
    }
  }
}

static void write_stdout(const Buf *b) {
  if (b->len && fwrite(b->s, 1, b->len, stdout) != b->len) {
    fprintf(stderr, "dcc: error: cannot write to standard output\n");
    exit(2);
  }
  if (fflush(stdout)) {
    fprintf(stderr, "dcc: error: cannot write to standard output\n");
    exit(2);
  }
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* net.expr -> net; 2-layer.expr -> m2_layer; standard input -> model */
static char *default_prefix(const char *input) {
  if (!strcmp(input, "-"))
    return xstrdup("model");
  char *name = xstrdup(base_name(input));
  char *dot = strrchr(name, '.');
  if (dot && dot != name)
    *dot = 0;
  for (char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
      *c = '_';
  char *p;
  if (!*name)
    p = xstrdup("model");
  else if ((*name >= '0' && *name <= '9') || *name == '_')
    p = xprintf("m%s", name);
  else
    p = xstrdup(name);
  free(name);
  return p;
}

/* The header beside a C output: x.c -> x.h, anything else -> anything.h */
static char *header_beside(const char *out) {
  size_t n = strlen(out);
  if (n > 2 && !strcmp(out + n - 2, ".c")) {
    char *h = xstrdup(out);
    h[n - 1] = 'h';
    return h;
  }
  return xprintf("%s.h", out);
}

/* ---- the pipeline's middle ----------------------------------------------- */

/* A built DAG and the roots of the gradient: per param scalar, and per
 * input scalar (-1 where --wrt did not name it). */
typedef struct {
  Built *b;
  int *grads;
  int *wrt_grads;
} Derived;

static Derived derived_new(Built *b) {
  Derived r = {b, xcalloc((size_t)b->m->n_params + 1, sizeof(int)), xcalloc((size_t)b->m->n_in + 1, sizeof(int))};
  return r;
}

/* The gradient of the loss with respect to every param scalar (and the
 * inputs --wrt names): one reverse sweep.  With loops, the gradient of a
 * tensor is one node, at its first scalar's offset (the others -1). */
static void gradients(Built *b, int *grads, int *wrt_grads, const bool *wrt) {
  Model *m = b->m;
  Dag *d = b->dag;
  for (int j = 0; j < m->n_in; j++)
    wrt_grads[j] = -1;
  for (int j = 0; j < m->n_params; j++)
    grads[j] = -1;
  if (b->loss < 0)
    return;
  int *adj = diff_reverse(d, b->loss);
  for (int pass = 0; pass < 2; pass++) {
    SymList *list = pass ? &m->inputs : &m->params;
    for (int i = 0; i < list->n; i++) {
      Sym *s = list->v[i];
      if (pass && !wrt[i])
        continue;
      int *table = pass ? wrt_grads : grads, *leaf = pass ? b->input_leaf : b->param_leaf;
      int n = b->loops ? 1 : shape_size(s->shape);
      for (int k = 0; k < n; k++) {
        int g = adj[leaf[s->offset + k]];
        table[s->offset + k] = g >= 0 ? g : dag_fill(d, dag_const(d, 0), d->nodes[leaf[s->offset + k]].shape);
      }
    }
  }
  free(adj);
}

/* -O0 prints every root as one expanded tree: false, after a diagnostic,
 * for a tree past the size or depth limit. */
static bool o0_tree_fits(Dag *d, int root, const char *what) {
  uint64_t size;
  int depth;
  tree_measure(d, root, &size, &depth);
  if (size <= DCC_O0_MAX_TREE && depth <= DCC_O0_MAX_DEPTH)
    return true;
  fprintf(stderr, "%s: error: -O0: %s has %llu nodes and depth %d; the limits are %d and %d (compile without -O0)\n",
          diags.src->path, what, (unsigned long long)size, depth, DCC_O0_MAX_TREE, DCC_O0_MAX_DEPTH);
  return false;
}

/* -O0: the seeds' way, one forward-mode derivative tree per param (and per
 * input --wrt names).  Each tree is measured as it is made, and one too big
 * to print is an error. */
static bool naive_gradients(Built *b, int *grads, int *wrt_grads, const bool *wrt) {
  Model *m = b->m;
  for (int i = 0; i < m->inputs.n; i++)
    for (int k = 0; k < shape_size(m->inputs.v[i]->shape); k++)
      wrt_grads[m->inputs.v[i]->offset + k] = -1;
  if (b->loss < 0)
    return true;
  for (int j = 0; j < m->n_params + m->n_in; j++) {
    bool is_param = j < m->n_params;
    int leaf = is_param ? b->param_leaf[j] : b->input_leaf[j - m->n_params];
    if (!is_param) {
      bool asked = false;
      for (int i = 0; i < m->inputs.n; i++) {
        Sym *s = m->inputs.v[i];
        asked |= wrt[i] && j - m->n_params >= s->offset && j - m->n_params < s->offset + shape_size(s->shape);
      }
      if (!asked)
        continue;
    }
    int g = diff_forward(b->dag, b->loss, leaf);
    if (!o0_tree_fits(b->dag, g, "the derivative tree of the loss"))
      return false;
    if (is_param)
      grads[j] = g;
    else
      wrt_grads[j - m->n_params] = g;
  }
  return true;
}

/* --stats' "before": the expanded trees of the naive computation, the loss
 * and one forward-mode derivative per param, counted one param at a time
 * (each derivative is dropped from the DAG once counted). */
static void naive_counts(Built *raw, OpCounts *c) {
  Model *m = raw->m;
  Dag *d = raw->dag;
  count_tree(d, &raw->loss, 1, c);
  for (int j = 0; j < m->n_params; j++) {
    int mark = d->n;
    int g = diff_forward(d, raw->loss, raw->param_leaf[j]);
    OpCounts one;
    count_tree(d, &g, 1, &one);
    c->nodes = c->nodes + one.nodes < c->nodes ? UINT64_MAX : c->nodes + one.nodes;
    for (int op = 0; op < OP_COUNT; op++)
      c->ops[op] = c->ops[op] + one.ops[op] < c->ops[op] ? UINT64_MAX : c->ops[op] + one.ops[op];
    d->n = mark; /* nothing since mark is in the hash table: -O0 shares only leaves */
  }
}

/* Warn about each param the loss does not depend on (after simplification:
 * 0 * w does not count). */
static void warn_independent_params(Built *b) {
  Model *m = b->m;
  if (b->loss < 0)
    return;
  Dag *d = b->dag;
  bool *live = xcalloc((size_t)d->n, sizeof *live);
  live[b->loss] = true;
  for (int id = b->loss; id >= 0; id--)
    if (live[id] && d->nodes[id].op != OP_NOGRAD)
      for (int i = 0; i < d->nodes[id].nops; i++)
        live[d->nodes[id].a[i]] = true;
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    if (!s->used)
      continue; /* already warned: unused */
    bool any = false;
    for (int k = 0; k < (b->loops ? 1 : shape_size(s->shape)); k++)
      any |= live[b->param_leaf[s->offset + k]];
    if (!any) {
      Token *t = &m->prog->toks[s->tok];
      diag_at(DIAG_WARNING, t->off, t->len, "the loss does not depend on param '%s'", s->name);
    }
  }
  free(live);
}

/* Lower b's DAG and carry every root and name over to the lowered nodes. */
static void lower_built(Built *b, int *grads, int *wrt_grads) {
  Model *m = b->m;
  int n_before = b->dag->n;
  int *map = lower(b->dag);
  if (b->loss >= 0)
    b->loss = map[b->loss];
  for (int i = 0; i < m->outputs.n; i++) {
    Sym *s = m->outputs.v[i];
    for (int k = 0; k < (b->loops ? 1 : shape_size(s->shape)); k++)
      b->out_ids[s->offset + k] = map[b->out_ids[s->offset + k]];
  }
  for (int j = 0; grads && b->loss >= 0 && j < m->n_params; j++)
    if (grads[j] >= 0)
      grads[j] = map[grads[j]];
  for (int j = 0; wrt_grads && b->loss >= 0 && j < m->n_in; j++)
    if (wrt_grads[j] >= 0)
      wrt_grads[j] = map[wrt_grads[j]];
  Sym **old_sym = b->node_sym;
  int *old_elem = b->node_elem;
  int old_cap = b->names_cap;
  b->names_cap = b->dag->n;
  b->node_sym = xcalloc((size_t)b->names_cap, sizeof *b->node_sym);
  b->node_elem = xcalloc((size_t)b->names_cap, sizeof *b->node_elem);
  for (int id = 0; id < old_cap && id < n_before; id++) {
    int to = map[id];
    if (!old_sym[id] || b->node_sym[to] || op_info[b->dag->nodes[to].op].kind == KIND_LEAF)
      continue;
    b->node_sym[to] = old_sym[id];
    b->node_elem[to] = old_elem[id];
  }
  free(old_sym);
  free(old_elem);
  free(map);
}

/* --wrt a,b: which inputs get a gradient function (a name that is not an
 * input is a usage error). */
static bool *resolve_wrt(Model *m, const char *list, const char *path) {
  bool *wrt = xcalloc((size_t)m->inputs.n + 1, sizeof *wrt);
  if (!list)
    return wrt;
  char *names = xstrdup(list);
  for (char *name = strtok(names, ","); name; name = strtok(NULL, ",")) {
    Sym *s = model_lookup(m, name);
    if (!s || s->kind != SYM_INPUT)
      usage_error("--wrt: '%s' is not an input of %s", name, path);
    for (int i = 0; i < m->inputs.n; i++)
      if (m->inputs.v[i] == s)
        wrt[i] = true;
  }
  free(names);
  return wrt;
}

/* --stats: the naive computation's counts against _loss_grad's.  Naive is
 * the seeds' way for unrolled models: one expanded forward-mode tree per
 * param scalar.  For a model with loops (whose params are too many for
 * that) it is reverse mode on whole tensors without simplification or
 * shared subexpressions, counted as expanded trees.  Counts are scalar
 * operations: a tensor op counts once per element (a matrix product its
 * multiplies and adds). */
static void print_operation_counts(Model *m, Derived *opt, const char *prefix) {
  if (opt->b->loss < 0)
    return;
  Built *naive = build(m, dag_new(false));
  VEC(int) after = {0};
  vec_push(&after, opt->b->loss);
  for (int j = 0; j < m->n_params; j++)
    if (opt->grads[j] >= 0)
      vec_push(&after, opt->grads[j]);
  OpCounts cb, ca;
  if (opt->b->loops) {
    naive->loops = true;
    Derived raw = derived_new(naive);
    bool *none = xcalloc((size_t)m->inputs.n + 1, sizeof *none);
    gradients(naive, raw.grads, raw.wrt_grads, none);
    VEC(int) before = {0};
    vec_push(&before, naive->loss);
    for (int j = 0; j < m->n_params; j++)
      if (raw.grads[j] >= 0)
        vec_push(&before, raw.grads[j]);
    count_tree(naive->dag, before.v, before.n, &cb);
    free(before.v);
    free(none);
  } else {
    unroll(naive);
    naive_counts(naive, &cb);
  }
  count_dag(opt->b->dag, after.v, after.n, &ca);
  char *what = xprintf("%s_loss_grad (the loss and %d gradient components)", prefix, m->n_params);
  print_stats(stderr, what, &cb, &ca);
  struct rusage ru;
  if (!getrusage(RUSAGE_SELF, &ru)) /* Linux: kilobytes */
    fprintf(stderr, "dcc: peak memory %ld KiB\n", (long)ru.ru_maxrss);
  free(what);
  free(after.v);
}

/* -O0: the model on an unsimplified DAG, one naive tree per gradient;
 * false (after a diagnostic) if a tree is too big to print. */
static bool naive_derivative(Model *m, const bool *wrt, Derived *out) {
  *out = derived_new(build(m, dag_new(false)));
  Built *raw = out->b;
  unroll(raw); /* -O0 is the seeds' scalar code */
  if (!naive_gradients(raw, out->grads, out->wrt_grads, wrt))
    return false;
  for (int r = -1; r < m->n_out; r++) {
    int root = r < 0 ? raw->loss : raw->out_ids[r];
    if (root >= 0 && !o0_tree_fits(raw->dag, root, "an expression tree"))
      return false;
  }
  lower_built(raw, out->grads, out->wrt_grads);
  return true;
}

/* The back end's last step: emit C or a header (text already holds --emit
 * expr or dot) and write every output file whole, or none. */
static void write_outputs(const Options *o, Derived *d, const bool *wrt, Buf *text) {
  char *prefix = o->prefix ? xstrdup(o->prefix) : default_prefix(o->input);
  bool to_file = o->output && strcmp(o->output, "-");
  char *header_path = NULL;
  if (o->emit == EMIT_C && !o->no_header)
    header_path = o->header ? xstrdup(o->header) : to_file ? header_beside(o->output) : NULL;
  EmitOpts eo = {prefix, diags.src->path, header_path ? base_name(header_path) : NULL, o->is_float, o->o0,
                 d->b, d->grads, d->wrt_grads, wrt, NULL};
  if (o->emit == EMIT_C || o->emit == EMIT_H) {
    /* the loops' workspace: the plain functions keep it on the stack */
    long ws = emit_workspace_size(&eo), bytes = ws * (o->is_float ? 4 : 8);
    if (ws > DCC_MAX_WORKSPACE) {
      diag_at(DIAG_ERROR, -1, 0, "the emitted code would need a workspace of more than %ld values; the limit is %ld",
              ws, DCC_MAX_WORKSPACE);
      exit(1);
    }
    char *upper = xstrdup(prefix);
    for (char *c = upper; *c; c++)
      *c = (char)toupper((unsigned char)*c);
    if (bytes > DCC_WS_STACK_BYTES)
      diag_at(DIAG_WARNING, -1, 0,
              "the loops need a workspace of %ld bytes, more than the %d the plain functions should put on the "
              "stack; call the _ws functions with a workspace of %s_WORKSPACE_SIZE values instead",
              bytes, DCC_WS_STACK_BYTES, upper);
    if (o->max_stack >= 0) {
      char *which = NULL;
      long most = emit_max_stack(&eo, &which);
      if (most > o->max_stack)
        diag_at(DIAG_ERROR, -1, 0,
                "%s takes %ld bytes of stack by dcc's accounting (the header's %s_STACK_ macros), more than "
                "--max-stack %ld",
                which, most, upper, o->max_stack);
      free(which);
    }
    free(upper);
    if (diags.errors)
      exit(1);
  }
  Buf header = {0};
  if (o->emit == EMIT_C) {
    emit_source(text, &eo);
    if (header_path)
      emit_header(&header, &eo);
  } else if (o->emit == EMIT_H) {
    emit_header(text, &eo);
  }
  if (text->len > DCC_MAX_OUTPUT || header.len > DCC_MAX_OUTPUT) {
    fprintf(stderr, "%s: error: the output would be %zu bytes; the limit is %u\n", diags.src->path,
            text->len > header.len ? text->len : header.len, (unsigned)DCC_MAX_OUTPUT);
    exit(1);
  }
  Staged files[2];
  int n = 0;
  if (header_path)
    files[n++] = stage(header_path, &header);
  if (to_file)
    files[n++] = stage(o->output, text);
  commit(files, n);
  if (!to_file)
    write_stdout(text);
}

int main(int argc, char **argv) {
  Options o = parse_options(argc, argv);
  Source *src = read_source(o.input);
  diags.src = src;

  /* front end: text to a checked model */
  Model *m = check(parse(src, lex(src)));
  if (diags.errors) {
    if (!diags.stopped)
      build(m, dag_new(true)); /* simplification finds errors too */
    return 1;
  }
  bool *wrt = resolve_wrt(m, o.wrt, src->path);

  /* middle: the hash-consed DAG, its gradient by reverse mode */
  Derived opt = derived_new(build(m, dag_new(true)));
  if (diags.errors)
    return 1;
  int largest = largest_tensor(opt.b);
  if (largest == 1 || largest <= o.unroll_limit) /* no tensors, or small ones */
    unroll(opt.b);
  else
    opt.b->loops = true;
  gradients(opt.b, opt.grads, opt.wrt_grads, wrt);
  warn_independent_params(opt.b);
  if (diags.errors)
    return 1;
  if (o.check)
    return check_gradients(opt.b, opt.grads, stdout) ? 0 : 1;
  Buf text = {0};
  if (o.emit == EMIT_EXPR)
    emit_expr(&text, opt.b, opt.grads, opt.wrt_grads);
  lower_built(opt.b, opt.grads, opt.wrt_grads);
  if (o.emit == EMIT_DOT)
    emit_dot(&text, opt.b, opt.grads, opt.wrt_grads);
  if (o.stats) {
    char *prefix = o.prefix ? xstrdup(o.prefix) : default_prefix(o.input);
    print_operation_counts(m, &opt, prefix);
    free(prefix);
  }
  Derived naive;
  if (o.o0 && !naive_derivative(m, wrt, &naive))
    return 1;

  /* back end */
  write_outputs(&o, o.o0 ? &naive : &opt, wrt, &text);
  return 0;
}
