/* main.c — the command line, and the pipeline:
 *
 *   read -> lex -> parse -> check -> build (DAG) -> unroll (small models)
 *        -> diff -> lower -> emit (loops for the others)
 *
 * Exit status: 0 success, 1 errors in the input, 2 usage or I/O errors, 3
 * --check inconclusive (gradcheck.c).
 * Output files are written whole or not at all: each goes to a temporary
 * file beside it, renamed over it only when everything succeeded; an
 * output that is the input or the other output is refused. */
#include "dcc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
  const char *train;     /* --train a,b */
  const char *freeze;    /* --freeze a,b */
  const char *weights;   /* --weights FILE */
  bool o0;
  long unroll_limit;     /* --unroll-limit */
  long split_limit;      /* --split-limit */
  long max_stack;        /* --max-stack, bytes; -1: none */
  EmitKind emit;
  bool stats, check;
  /* planned from the above (plan_header) */
  bool to_file;            /* -o names a file, not standard output */
  const char *header_path; /* where the header goes, NULL: no header */
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
    "                     header goes beside it (FILE.c -> FILE.h, and so for\n"
    "                     .cc .cpp .C ...; other names get .h appended), but\n"
    "                     not beside a FILE that is not a regular file\n"
    "                     (/dev/null); -o - writes the source to standard\n"
    "                     output and no header\n"
    "  --header FILE      write the header to FILE\n"
    "  --no-header        no header: the source declares what it needs itself\n"
    "  --prefix NAME      prefix of every emitted symbol (default: the input's\n"
    "                     base name made into a C identifier)\n"
    "  --real double|float  the real type of the emitted code (default double)\n"
    "  --wrt a,b,...      also emit a gradient function for each named input\n"
    "  --train a,b,...    train only the named params: the others are frozen\n"
    "                     (no gradient, no update; constants of the model)\n"
    "  --freeze a,b,...   freeze the named params, train the others\n"
    "  --weights FILE     the params' values (_init sets them); with --train\n"
    "                     or --freeze the frozen ones become constant arrays\n"
    "  -O0                no simplification, no common subexpressions: the\n"
    "                     naive derivative, one tree per gradient\n"
    "  --max-stack BYTES  fail if an emitted function takes more stack than\n"
    "                     BYTES (dcc's accounting: the header's _STACK_ macros)\n"
    "  --unroll-limit N   unroll a model to scalar code when its largest tensor\n"
    "                     has at most N scalars, else emit loops (default "DCC_STR(DCC_UNROLL_LIMIT)")\n"
    "  --split-limit N    write a function of more than N statements as static\n"
    "                     functions of N/2 statements each, which C compilers\n"
    "                     take faster (default "DCC_STR(DCC_SPLIT_LIMIT)"; 0: never)\n"
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

/* Standard output flushed, or exit 2: a --help, --version or --check whose
 * output was lost must not say it succeeded. */
static void finish_stdout(void) {
  if (fflush(stdout) || ferror(stdout)) {
    fprintf(stderr, "dcc: error: cannot write to standard output\n");
    exit(2);
  }
}

/* Every option, as --help lists it: what "did you mean" picks from. */
static const char *const known_options[] = {
    "-o", "--header", "--no-header", "--prefix", "--real", "--wrt", "--train", "--freeze", "--weights", "-O0",
    "--max-stack", "--unroll-limit", "--split-limit", "--emit", "--stats", "--check", "--eval", "-Werror", "-w", "--help", "--version",
};

/* An unknown option is a usage error, with the nearest known option (by
 * edit distance, of the part before any '=') when one is close. */
static _Noreturn void unknown_option(const char *a) {
  if (a[1] == 'O' && strncmp(a, "-O0", 3))
    usage_error("unknown option '%s': dcc always optimises; -O0 turns it off", a);
  size_t n = strcspn(a, "=");
  char *name = xstrndup(a, n);
  const char *best = NULL;
  int bestd = (int)n / 3 + 1 < 2 ? (int)n / 3 + 1 : 2; /* as check.c's "did you mean" */
  for (size_t i = 0; i < sizeof known_options / sizeof *known_options; i++) {
    int d = edit_distance(name, known_options[i]);
    if (d <= bestd && (!best || d < edit_distance(name, best)))
      best = known_options[i];
  }
  if (best)
    usage_error("unknown option '%s'; did you mean '%s'?", a, best);
  usage_error("unknown option '%s'", a);
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
  o.split_limit = DCC_SPLIT_LIMIT;
  o.max_stack = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage_text, stdout);
      finish_stdout();
      exit(0);
    } else if (!strcmp(a, "--version")) {
      printf("dcc %s\n", DCC_VERSION);
      finish_stdout();
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
    } else if (option_is(a, "--train")) {
      o.train = option_value(argc, argv, &i, "--train");
    } else if (option_is(a, "--freeze")) {
      o.freeze = option_value(argc, argv, &i, "--freeze");
    } else if (option_is(a, "--weights")) {
      o.weights = option_value(argc, argv, &i, "--weights");
    } else if (!strcmp(a, "-O0")) {
      o.o0 = true;
    } else if (option_is(a, "--max-stack")) {
      o.max_stack = option_count(argc, argv, &i, "--max-stack", "bytes");
    } else if (option_is(a, "--unroll-limit")) {
      o.unroll_limit = option_count(argc, argv, &i, "--unroll-limit", "scalars");
    } else if (option_is(a, "--split-limit")) {
      o.split_limit = option_count(argc, argv, &i, "--split-limit", "statements");
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
      unknown_option(a);
    } else if (o.input) {
      usage_error("more than one input file ('%s' and '%s')", o.input, a);
    } else {
      o.input = a;
    }
  }
  if (!o.input)
    usage_error("no input file");
  if (o.train && o.freeze)
    usage_error("--train and --freeze: give one of the two (--train names what is trained, --freeze what is not)");
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

/* ---- output files --------------------------------------------------------
 *
 * Each output that is (or will be) a regular file is written to a
 * temporary file beside it and renamed over it once every output has been
 * written (commit).  The temporaries not yet renamed are in temps[]: the
 * exit handler removes them after any failure, and so does the handler of
 * SIGINT, SIGTERM, SIGHUP and SIGPIPE before the signal ends dcc.  The
 * renames run with those signals blocked, so that a signal leaves the old
 * pair or the new one (and the source checks its header's hash anyway). */

#define MAX_TEMPS 2
static char *volatile temps[MAX_TEMPS];
static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};

static void remove_temps(void) {
  for (int i = 0; i < MAX_TEMPS; i++)
    if (temps[i])
      unlink(temps[i]);
}

static void on_signal(int sig) {
  remove_temps(); /* unlink, signal and raise are async-signal-safe */
  signal(sig, SIG_DFL);
  raise(sig); /* delivered when the handler returns: dcc ends by the signal */
}

/* Block the signals above (block true) or restore the mask. */
static void block_signals(bool block, sigset_t *saved) {
  if (block) {
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof cleanup_signals / sizeof *cleanup_signals; i++)
      sigaddset(&set, cleanup_signals[i]);
    sigprocmask(SIG_BLOCK, &set, saved);
  } else {
    sigprocmask(SIG_SETMASK, saved, NULL);
  }
}

/* The handlers, installed once before the first temporary; a signal the
 * caller ignores (nohup, a background job) stays ignored. */
static void install_cleanup(void) {
  static bool done;
  if (done)
    return;
  done = true;
  atexit(remove_temps);
  for (size_t i = 0; i < sizeof cleanup_signals / sizeof *cleanup_signals; i++) {
    struct sigaction old, sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(cleanup_signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
      sigaction(cleanup_signals[i], &sa, NULL);
  }
}

static _Noreturn void write_error(const char *path) {
  fprintf(stderr, "dcc: error: cannot write '%s': %s\n", path, strerror(errno));
  exit(2); /* remove_temps runs at exit */
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* The folder of path: "." for a bare name. */
static char *dir_name(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return xstrdup(".");
  return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

/* A new temporary file beside path, registered in temps[]: path.dcc-XXXXXX,
 * or .dcc-XXXXXX in the same folder when that name would be too long (an
 * output name of 245 characters or more). */
static int make_temp(const char *path, int *slot) {
  install_cleanup();
  char *dir = dir_name(path);
  char *names[2] = {xprintf("%s.dcc-XXXXXX", path), xprintf("%s/.dcc-XXXXXX", dir)};
  free(dir);
  int fd = -1;
  for (int k = 0; k < 2 && fd < 0; k++) {
    sigset_t saved;
    block_signals(true, &saved); /* created and registered, or neither */
    fd = mkstemp(names[k]);
    if (fd >= 0) {
      for (*slot = 0; temps[*slot]; ++*slot)
        ;
      temps[*slot] = names[k];
    }
    int err = errno;
    block_signals(false, &saved);
    errno = err;
    if (fd < 0 && errno != ENAMETOOLONG)
      break;
  }
  if (fd < 0)
    write_error(path);
  return fd;
}

typedef struct {
  const char *path;
  int slot;         /* its temporary in temps[]; -1: written in place (not a regular file) */
  const Buf *data;
} Staged;

/* Write data to a new temporary file beside path, to be renamed over it.
 * The new file keeps an existing output's permissions (and, where dcc may,
 * its owner), else takes the umask's.  A path that exists and is not a
 * regular file (/dev/null, a pipe) cannot be replaced: it is written
 * directly, at commit. */
static Staged stage(const char *path, const Buf *data) {
  Staged s = {path, -1, data};
  struct stat st;
  bool exists = stat(path, &st) == 0;
  if (exists && !S_ISREG(st.st_mode))
    return s;
  int fd = make_temp(path, &s.slot);
  if (exists) {
    if (st.st_uid != geteuid() || st.st_gid != getegid())
      if (fchown(fd, st.st_uid, st.st_gid)) {
        /* not allowed: the file becomes the user's, as any new file */
      }
    fchmod(fd, st.st_mode & 0777);
  } else {
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
  }
  size_t off = 0;
  while (off < data->len) {
    ssize_t w = write(fd, data->s + off, data->len - off);
    if (w <= 0)
      write_error(path);
    off += (size_t)w;
  }
  if (close(fd))
    write_error(path);
  return s;
}

/* Files written in place go first: if one fails, no file has changed yet
 * (the temporaries are removed).  Then the renames, signals blocked. */
static void commit(Staged *files, int n) {
  for (int i = 0; i < n; i++) {
    if (files[i].slot >= 0)
      continue;
    FILE *f = fopen(files[i].path, "wb");
    bool ok = f && fwrite(files[i].data->s, 1, files[i].data->len, f) == files[i].data->len;
    if (f && fclose(f))
      ok = false;
    if (!ok)
      write_error(files[i].path);
  }
  sigset_t saved;
  block_signals(true, &saved);
  for (int i = 0; i < n; i++) {
    if (files[i].slot < 0)
      continue;
    if (rename(temps[files[i].slot], files[i].path))
      write_error(files[i].path);
    temps[files[i].slot] = NULL;
  }
  block_signals(false, &saved);
}

static void write_stdout(const Buf *b) {
  if (b->len && fwrite(b->s, 1, b->len, stdout) != b->len) {
    fprintf(stderr, "dcc: error: cannot write to standard output\n");
    exit(2);
  }
  finish_stdout();
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

/* The header beside a C output: x.c -> x.h, and so for the suffixes gcc
 * takes for C++ (x.C, x.cc, x.cpp, ... -> x.h); any other name gets .h
 * appended (x -> x.h, x.txt -> x.txt.h). */
static char *header_beside(const char *out) {
  static const char *const sources[] = {".c", ".C", ".cc", ".cp", ".cpp", ".cxx", ".CPP", ".c++"};
  const char *base = base_name(out);
  const char *dot = strrchr(base, '.');
  for (size_t i = 0; dot && dot != base && i < sizeof sources / sizeof *sources; i++)
    if (!strcmp(dot, sources[i]))
      return xprintf("%.*s.h", (int)(dot - out), out);
  return xprintf("%s.h", out);
}

/* Where the outputs go: o->output as given (to_file: a file, not standard
 * output) and the header's path, NULL for none.  An -o that exists and is
 * not a regular file (/dev/null, a pipe, a terminal) gets no header beside
 * it: the source is self-contained, as with --no-header, unless --header
 * names one. */
static const char *plan_header(const Options *o, bool *to_file) {
  *to_file = o->output && strcmp(o->output, "-");
  if (o->emit != EMIT_C || o->no_header)
    return NULL;
  if (o->header)
    return o->header;
  struct stat st;
  if (!*to_file || (stat(o->output, &st) == 0 && !S_ISREG(st.st_mode)))
    return NULL;
  return header_beside(o->output);
}

/* What a path names, to tell whether two paths are one file: a file that
 * exists by its device and inode (so hard links and symlinks to it are
 * it), one that does not yet by its folder's and its name there. */
typedef struct {
  bool known;
  dev_t dev;
  ino_t ino;
  const char *name; /* NULL: an existing file */
  bool device;      /* a character device (/dev/null): any number of writers */
} FileId;

static FileId file_id(const char *path, bool exists_only) {
  FileId id = {0};
  struct stat st;
  bool stdin_ = !strcmp(path, "-");
  if (stdin_ ? fstat(STDIN_FILENO, &st) == 0 : stat(path, &st) == 0)
    return (FileId){true, st.st_dev, st.st_ino, NULL, S_ISCHR(st.st_mode)};
  if (stdin_ || exists_only || errno != ENOENT)
    return id;
  char *dir = dir_name(path);
  if (stat(dir, &st) == 0)
    id = (FileId){true, st.st_dev, st.st_ino, base_name(path), false};
  free(dir);
  return id;
}

static bool same_file(FileId a, FileId b) {
  return a.known && b.known && !a.device && a.dev == b.dev && a.ino == b.ino && !a.name == !b.name &&
         (!a.name || !strcmp(a.name, b.name));
}

/* No output may be the input or the other output: that is refused before
 * anything is written (exit 2). */
static void check_distinct(const Options *o) {
  const char *header = o->header_path;
  FileId in = file_id(o->input, true);
  FileId out = o->to_file ? file_id(o->output, false) : (FileId){0};
  FileId hdr = header ? file_id(header, false) : (FileId){0};
  const char *why = NULL, *fix = "";
  if (same_file(out, in))
    why = xprintf("the output '%s' is the input file", o->output);
  else if (same_file(hdr, in) && o->header)
    why = xprintf("the header '%s' is the input file", header), fix = " (name another with --header)";
  else if (same_file(hdr, in))
    why = xprintf("the header beside '%s' would be '%s', the input file", o->output, header),
    fix = " (name another with --header, or --no-header)";
  else if (same_file(hdr, out))
    why = xprintf("the header '%s' and the output '%s' are the same file", header, o->output);
  if (!why)
    return;
  fprintf(stderr, "dcc: error: %s; nothing written%s\n", why, fix);
  exit(2);
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

/* --train a,b (train true) or --freeze a,b: mark the frozen params, and
 * count the trainable scalars.  A name that is not a param is a usage
 * error, and so is an empty list. */
static void resolve_subset(Model *m, const char *list, bool train, const char *path) {
  const char *opt = train ? "--train" : "--freeze";
  bool *named = xcalloc((size_t)m->params.n + 1, sizeof *named);
  char *names = xstrdup(list);
  int count = 0;
  for (char *name = strtok(names, ","); name; name = strtok(NULL, ",")) {
    Sym *s = model_lookup(m, name);
    if (!s || s->kind != SYM_PARAM)
      usage_error("%s: '%s' is not a param of %s", opt, name, path);
    for (int i = 0; i < m->params.n; i++)
      if (m->params.v[i] == s)
        named[i] = true;
    count++;
  }
  free(names);
  if (!count)
    usage_error("%s needs the names of params (a,b,...)", opt);
  m->subset = true;
  for (int i = 0; i < m->params.n; i++)
    m->params.v[i]->frozen = named[i] != train;
  free(named);
  model_place_params(m);
}

/* The back end's last step: emit C or a header (text already holds --emit
 * expr or dot) and write every output file whole, or none. */
static void write_outputs(const Options *o, Built *b, Buf *text) {
  char *prefix = o->prefix ? xstrdup(o->prefix) : default_prefix(o->input);
  bool to_file = o->to_file;
  const char *header_path = o->header_path;
  EmitOpts eo = {prefix, diags.src->path, header_path ? base_name(header_path) : NULL, o->is_float, o->o0, b,
                 o->split_limit};
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
      if (header_path)
        emit_header(&header, code); /* first: the source checks its hash */
      emit_source(text, code);
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
  if (!to_file) /* before the commit: if it fails, the header is untouched */
    write_stdout(text);
  commit(files, n);
}

int main(int argc, char **argv) {
  Options o = parse_options(argc, argv);
  Source *src = read_source(o.input);
  diags.src = src;
  o.header_path = plan_header(&o, &o.to_file);
  if (!o.check) /* --check writes nothing */
    check_distinct(&o);

  /* front end: text to a checked model */
  Model *m = check(parse(src, lex(src)));
  if (diags.errors) {
    if (!diags.stopped)
      build(m, dag_new(true)); /* simplification finds errors too */
    return 1;
  }
  bool *wrt = resolve_wrt(m, o.wrt, src->path);
  if (o.train || o.freeze)
    resolve_subset(m, o.train ? o.train : o.freeze, o.train != NULL, src->path);
  if (o.weights) {
    int status = read_weights(m, o.weights, src->path);
    if (status)
      return status;
    model_place_params(m);
  }
  if (!m->loss) /* legal, but most likely not what the user meant */
    diag_at(DIAG_WARNING, -1, 0, "%s: only _outputs and _init are emitted (no _loss, _loss_grad, _grad_ or "
            "_sgd_step function)", m->prog->stmts.n ? "no loss" : "the file has no statements");

  /* middle: the hash-consed DAG, unrolled if small, its gradient */
  Built *b = build(m, dag_new(true));
  if (diags.errors)
    return 1;
  int largest = largest_tensor(b);
  if (!dag_has_loops(b->dag) && (largest == 1 || largest <= o.unroll_limit)) /* no tensors, or small ones */
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
    finish_stdout();
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
