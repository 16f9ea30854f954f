/* main.c — the command line, and the pipeline:
 *
 *   read -> lex -> parse -> check -> build (DAG) -> unroll (small models)
 *        -> diff -> lower -> emit (loops for the others)
 *
 * Exit status: 0 success, 1 errors in the input, 2 usage or I/O errors, 3
 * --check inconclusive (gradcheck.c).
 * Output files are written whole or not at all: each goes to a temporary
 * file beside it, renamed over it only when everything succeeded. */
#include "dcc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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
  const char *eval;      /* --eval FILE */
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
    "                     dcc's own evaluator (no C compiler); exit 1 if off,\n"
    "                     3 if the differences cannot tell\n"
    "  --eval FILE        print dcc's own evaluation of the loss and gradient at\n"
    "                     each point of FILE (a line: the inputs, then the params)\n"
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
    } else if (option_is(a, "--eval")) {
      o.eval = option_value(argc, argv, &i, "--eval");
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

/* The back end's last step: emit C or a header (text already holds --emit
 * expr or dot) and write every output file whole, or none. */
static void write_outputs(const Options *o, Built *b, Buf *text) {
  char *prefix = o->prefix ? xstrdup(o->prefix) : default_prefix(o->input);
  bool to_file = o->output && strcmp(o->output, "-");
  char *header_path = NULL;
  if (o->emit == EMIT_C && !o->no_header)
    header_path = o->header ? xstrdup(o->header) : to_file ? header_beside(o->output) : NULL;
  EmitOpts eo = {prefix, diags.src->path, header_path ? base_name(header_path) : NULL, o->is_float, o->o0, b};
  Buf header = {0};
  if (o->emit == EMIT_C || o->emit == EMIT_H) {
    Code *code = plan_code(&eo);
    /* the loops' workspace: the plain functions keep it on the stack */
    long ws = code->workspace, bytes = ws * (o->is_float ? 4 : 8);
    if (ws > DCC_MAX_WORKSPACE) {
      diag_at(DIAG_ERROR, -1, 0, "the emitted code would need a workspace of more than %ld values; the limit is %ld",
              ws, DCC_MAX_WORKSPACE);
      exit(1);
    }
    if (bytes > DCC_WS_STACK_BYTES)
      diag_at(DIAG_WARNING, -1, 0,
              "the loops need a workspace of %ld bytes, more than the %d the plain functions should put on the "
              "stack; call the _ws functions with a workspace of %s_WORKSPACE_SIZE values instead",
              bytes, DCC_WS_STACK_BYTES, code->E.PU);
    if (o->max_stack >= 0 && code->max_stack > o->max_stack)
      diag_at(DIAG_ERROR, -1, 0,
              "%s_%s takes %ld bytes of stack by dcc's accounting (the header's %s_STACK_ macros), more than "
              "--max-stack %ld",
              prefix, code->max_stack_fn, code->max_stack, code->E.PU, o->max_stack);
    if (diags.errors)
      exit(1);
    if (o->emit == EMIT_C) {
      emit_source(text, code);
      if (header_path)
        emit_header(&header, code);
    } else {
      emit_header(text, code);
    }
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

  /* middle: the hash-consed DAG, unrolled if small, its gradient */
  Built *b = build(m, dag_new(true));
  if (diags.errors)
    return 1;
  int largest = largest_tensor(b);
  if (largest == 1 || largest <= o.unroll_limit) /* no tensors, or small ones */
    unroll(b);
  else
    b->loops = true;
  differentiate(b, wrt);
  warn_independent_params(b);
  if (diags.errors)
    return 1;
  if (o.check || o.eval) {
    Built *eb = b; /* --eval -O0: the naive model's trees */
    if (o.eval && !o.check && o.o0 && !(eb = naive_model(m, wrt)))
      return 1;
    int status = o.check ? (int)check_gradients(b, stdout) : eval_points(eb, o.eval, stdout) ? 0 : 2;
    if (fflush(stdout) || ferror(stdout)) {
      fprintf(stderr, "dcc: error: cannot write to standard output\n");
      return 2;
    }
    return status;
  }
  Buf text = {0};
  if (o.emit == EMIT_EXPR)
    emit_expr(&text, b);
  lower(b);
  if (o.emit == EMIT_DOT)
    emit_dot(&text, b);
  char *prefix = o.prefix ? xstrdup(o.prefix) : default_prefix(o.input);
  if (o.stats)
    print_operation_counts(stderr, b, prefix);
  free(prefix);
  if (o.o0 && !(b = naive_model(m, wrt)))
    return 1;

  /* back end */
  write_outputs(&o, b, &text);
  return 0;
}
