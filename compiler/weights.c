/* weights.c — --weights FILE: the params' values, from a text file that a
 * few lines of Python write (docs/command-line.md shows them).
 *
 * The file holds one block per param, in any order: a line with the
 * param's name and its dimensions ("W1 5 4", "b1 5", "c" for a scalar),
 * then its values row-major, as many as the dimensions say, separated by
 * white space and line breaks (C's strtod reads each).  '#' starts a
 * comment that runs to the end of its line; blank lines are skipped.
 * Every param must be there once, with its shape, and nothing else.
 */
#include "dcc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *path; /* as the user gave it */
  char *text;
  size_t len, at;   /* at: the reader's position */
  int line;         /* at's line, from 1 */
  int errors;
  bool lost;        /* after an error that leaves the reader out of step */
  char *last;       /* the name of the block before, and its values' count */
  long last_count;
} Reader;

static void werror(Reader *r, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (line > 0)
    fprintf(stderr, "%s:%d: error: ", r->path, line);
  else
    fprintf(stderr, "%s: error: ", r->path);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  r->errors++;
}

/* Skips white space and comments, line breaks too if lines; false at the
 * end of the text (or of the line, without lines). */
static bool skip(Reader *r, bool lines) {
  while (r->at < r->len) {
    char c = r->text[r->at];
    if (c == '#') {
      while (r->at < r->len && r->text[r->at] != '\n')
        r->at++;
    } else if (c == '\n') {
      if (!lines)
        return false;
      r->at++;
      r->line++;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      r->at++;
    } else {
      return true;
    }
  }
  return false;
}

/* The word at the reader (up to white space or '#'), NUL-terminated in a
 * static buffer (cut short, with "...", if long): for messages. */
static const char *word_at(const Reader *r) {
  static char w[40];
  size_t n = 0;
  while (r->at + n < r->len && !isspace((unsigned char)r->text[r->at + n]) && r->text[r->at + n] != '#')
    n++;
  if (n < sizeof w) {
    memcpy(w, r->text + r->at, n);
    w[n] = 0;
  } else {
    memcpy(w, r->text + r->at, sizeof w - 4);
    strcpy(w + sizeof w - 4, "...");
  }
  return w;
}

static size_t word_len(const Reader *r) {
  size_t n = 0;
  while (r->at + n < r->len && !isspace((unsigned char)r->text[r->at + n]) && r->text[r->at + n] != '#')
    n++;
  return n;
}

/* A number that fills the word at the reader, read into *v. */
static bool number_at(const Reader *r, double *v) {
  size_t n = word_len(r);
  char *end;
  char *tmp = xstrndup(r->text + r->at, n);
  *v = strtod(tmp, &end);
  bool ok = n > 0 && end == tmp + n;
  free(tmp);
  return ok;
}

static const char *shape_of(Shape s) { return s.rank ? shape_str(s) : " (a scalar)"; }

/* Stops the reading: what follows cannot be read in step. */
static void lose(Reader *r) {
  r->lost = true;
  r->at = r->len;
}

/* One param's block, the reader at its first word.  seen_line: the line
 * of each param's block (0: none yet). */
static void read_block(Reader *r, Model *m, const char *model_path, int *seen_line) {
  int line = r->line;
  size_t n = word_len(r);
  char *name = xstrndup(r->text + r->at, n);
  double dummy;
  if (number_at(r, &dummy) && !model_lookup(m, name)) { /* a param may be called inf */
    if (r->last)
      werror(r, line, "'%s' has %ld value%s, and '%s' is one more (a param's name and its dimensions "
                      "expected)", r->last, r->last_count, r->last_count == 1 ? "" : "s", word_at(r));
    else
      werror(r, line, "expected a param's name and its dimensions, found the number '%s'", word_at(r));
    free(name);
    lose(r);
    return;
  }
  r->at += n;
  /* the dimensions, on the same line */
  Shape shape = {0};
  bool bad_dims = false;
  while (skip(r, false)) {
    const char *w = word_at(r);
    char *end;
    errno = 0;
    long d = strtol(w, &end, 10);
    if (*end || d <= 0 || errno || d > DCC_MAX_DIM) {
      werror(r, line, "'%s': the dimension '%s' is not a positive integer (a param's name is followed by its "
                      "dimensions on its line, its values after it)", name, w);
      bad_dims = true;
      break;
    }
    if (shape.rank == DCC_MAX_RANK) {
      werror(r, line, "'%s': more than %d dimensions", name, DCC_MAX_RANK);
      bad_dims = true;
      break;
    }
    shape.dim[shape.rank++] = (int)d;
    r->at += word_len(r);
  }
  if (bad_dims) {
    free(name);
    lose(r);
    return;
  }
  Sym *s = model_lookup(m, name);
  int k = -1;
  for (int i = 0; s && i < m->params.n; i++)
    if (m->params.v[i] == s)
      k = i;
  if (k < 0) {
    werror(r, line, "'%s' is not a param of %s", name, model_path);
  } else if (seen_line[k]) {
    werror(r, line, "'%s' again (it is on line %d too)", name, seen_line[k]);
    k = -1;
  } else if (!shape_eq(shape, s->shape)) {
    seen_line[k] = line;
    if (shape.rank)
      werror(r, line, "'%s' has shape %s, but the param is %s%s", name, shape_str(shape), s->name,
             shape_of(s->shape));
    else
      werror(r, line, "'%s' has no dimensions (a scalar), but the param is %s%s", name, s->name,
             shape_of(s->shape));
    k = -1;
  }
  /* its values: as many as its dimensions say */
  long count = 1;
  for (int i = 0; i < shape.rank && count <= DCC_MAX_SCALARS; i++)
    count *= shape.dim[i];
  if (count > DCC_MAX_SCALARS) {
    werror(r, line, "'%s': more than %d values", name, DCC_MAX_SCALARS);
    free(name);
    lose(r);
    return;
  }
  double *vals = k >= 0 ? xmalloc((size_t)count * sizeof *vals) : NULL;
  int got = 0;
  for (; got < count; got++) {
    if (!skip(r, true)) {
      werror(r, r->line, "'%s' needs %ld value%s, the file ends after %d", name, count, count == 1 ? "" : "s", got);
      lose(r);
      break;
    }
    double v;
    if (!number_at(r, &v)) {
      werror(r, r->line, "'%s' needs %ld value%s, found %d before '%s'", name, count, count == 1 ? "" : "s", got,
             word_at(r));
      lose(r);
      break;
    }
    if (!isfinite(v)) { /* an overflow too; an underflow to 0 is harmless */
      werror(r, r->line, "'%s': value %d, '%s', is not a finite double", name, got, word_at(r));
      lose(r);
      break;
    }
    if (vals)
      vals[got] = v;
    r->at += word_len(r);
  }
  if (k >= 0 && got == count) {
    seen_line[k] = line;
    s->weights = vals;
  } else {
    free(vals);
  }
  free(r->last);
  r->last = name;
  r->last_count = count;
}

int read_weights(Model *m, const char *path, const char *model_path) {
  Reader r = {path, NULL, 0, 0, 1, 0, false, NULL, 0};
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "dcc: error: cannot open '%s': %s\n", path, strerror(errno));
    return 2;
  }
  Buf b = {0};
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    for (size_t i = 0; i < n; i++)
      buf_putc(&b, chunk[i]);
  }
  bool failed = ferror(f);
  fclose(f);
  if (failed) {
    free(b.s);
    fprintf(stderr, "dcc: error: cannot read '%s'\n", path);
    return 2;
  }
  r.text = b.s ? b.s : xstrdup("");
  r.len = b.len;
  int *seen_line = xcalloc((size_t)m->params.n + 1, sizeof *seen_line);
  while (skip(&r, true) && r.errors < DCC_MAX_ERRORS)
    read_block(&r, m, model_path, seen_line);
  for (int i = 0; i < m->params.n && !r.lost; i++) /* a file read to its end */
    if (!seen_line[i] && r.errors < DCC_MAX_ERRORS)
      werror(&r, 0, "no values for '%s' (the param %s%s of %s)", m->params.v[i]->name, m->params.v[i]->name,
             shape_of(m->params.v[i]->shape), model_path);
  free(seen_line);
  free(r.text);
  free(r.last);
  if (r.errors)
    return 1;
  m->weights = true;
  return 0;
}
