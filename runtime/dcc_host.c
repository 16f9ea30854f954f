/* dcc_host.c — host-only helpers: the CSV loader, data preparation,
 * scoring, params as a C array.  See dcc_host.h.  C99 with stdio and
 * malloc; not for firmware. */
#include "dcc_host.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * CSV
 * ====================================================================== */

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (!err || !errlen)
    return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Characters (not bytes: UTF-8 continuation bytes do not count) in s[0, n). */
static long utf8_chars(const char *s, size_t n) {
  long k = 0;
  for (size_t i = 0; i < n; i++)
    k += ((unsigned char)s[i] & 0xC0) != 0x80;
  return k;
}

/* [+-]digits[.digits][(e|E)[+-]digits], at least one digit in the mantissa. */
static int valid_number(const char *s, size_t n) {
  size_t i = 0, digits = 0, exp_digits = 0;
  if (i < n && (s[i] == '+' || s[i] == '-'))
    i++;
  for (; i < n && is_digit(s[i]); i++)
    digits++;
  if (i < n && s[i] == '.')
    for (i++; i < n && is_digit(s[i]); i++)
      digits++;
  if (!digits)
    return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    for (; i < n && is_digit(s[i]); i++)
      exp_digits++;
    if (!exp_digits)
      return 0;
  }
  return i == n;
}

/* The value of a valid number: strtod on a copy, with '.' replaced by the
 * locale's decimal point (strtod follows the locale).  Returns 0, or -1 out
 * of memory. */
static int number_value(const char *s, size_t n, double *value) {
  char local[128], *buf = local;
  const char *dp = localeconv()->decimal_point;
  size_t dplen = dp && *dp ? strlen(dp) : 1, need = n + dplen + 1, k = 0;
  if (need > sizeof local && !(buf = (char *)malloc(need)))
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '.' && dp && *dp) {
      memcpy(buf + k, dp, dplen);
      k += dplen;
    } else {
      buf[k++] = s[i];
    }
  }
  buf[k] = 0;
  *value = strtod(buf, NULL);
  if (buf != local)
    free(buf);
  return 0;
}

/* A field quoted in a message: at most 40 characters (then "..."), control
 * characters as '?'. */
static void quote_field(char *dst, size_t dstlen, const char *s, size_t n) {
  size_t k = 0, chars = 0, i = 0;
  while (i < n && k + 8 < dstlen) {
    unsigned char c = (unsigned char)s[i];
    if ((c & 0xC0) != 0x80 && chars++ == 40)
      break;
    dst[k++] = c < 0x20 || c == 0x7F ? '?' : (char)c;
    i++;
  }
  if (i < n) {
    /* do not end inside a UTF-8 sequence */
    while (k > 0 && ((unsigned char)dst[k - 1] & 0xC0) == 0x80)
      k--;
    if (k > 0 && ((unsigned char)dst[k - 1] & 0xC0) == 0xC0)
      k--;
    memcpy(dst + k, "...", 3);
    k += 3;
  }
  dst[k] = 0;
}

static char *read_all(FILE *f, size_t *len) {
  size_t cap = 1 << 16, n = 0;
  char *buf = (char *)malloc(cap);
  if (!buf)
    return NULL;
  for (;;) {
    if (n == cap) {
      char *bigger = cap > (size_t)-1 / 2 ? NULL : (char *)realloc(buf, cap * 2);
      if (!bigger) {
        free(buf);
        errno = ENOMEM;
        return NULL;
      }
      buf = bigger;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) {
        int e = errno;
        free(buf);
        errno = e ? e : EIO;
        return NULL;
      }
      break;
    }
  }
  *len = n;
  return buf;
}

int dcc_csv_load(const char *path, int skip_lines, dcc_csv *out, char *err, size_t errlen) {
  FILE *f;
  char *buf;
  size_t len = 0, pos = 0, cap = 0, count = 0;
  double *values = NULL;
  int rows = 0, cols = 0;
  long line = 0;

  if (err && errlen)
    err[0] = 0;
  if (out) {
    out->rows = out->cols = 0;
    out->values = NULL;
  }
  if (!path || !out) {
    set_err(err, errlen, "%s: error: invalid argument", path ? path : "(null)");
    return -1;
  }
  errno = 0;
  if (!(f = fopen(path, "rb"))) {
    set_err(err, errlen, "%s: error: cannot open: %s", path, strerror(errno ? errno : ENOENT));
    return -1;
  }
  errno = 0;
  buf = read_all(f, &len);
  if (!buf) {
    set_err(err, errlen, "%s: error: cannot read: %s", path, strerror(errno ? errno : EIO));
    fclose(f);
    return -1;
  }
  fclose(f);
  if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
      (unsigned char)buf[2] == 0xBF)
    pos = 3; /* UTF-8 byte order mark */
  if (pos == len) {
    set_err(err, errlen, "%s: error: empty file", path);
    free(buf);
    return -1;
  }

  while (pos < len) {
    size_t start = pos, end = pos;
    while (end < len && buf[end] != '\n')
      end++;
    pos = end < len ? end + 1 : end;
    line++;
    if (end > start && buf[end - 1] == '\r')
      end--;
    if (line <= skip_lines)
      continue;
    size_t k = start;
    while (k < end && is_blank(buf[k]))
      k++;
    if (k == end)
      continue; /* blank line */

    int fields = 0;
    size_t p = start;
    for (;;) {
      size_t q = p, a, b;
      double v;
      while (q < end && buf[q] != ',')
        q++;
      for (a = p; a < q && is_blank(buf[a]); a++)
        ;
      for (b = q; b > a && is_blank(buf[b - 1]); b--)
        ;
      if (a == b || !valid_number(buf + a, b - a)) {
        char shown[200];
        quote_field(shown, sizeof shown, buf + a, b - a);
        if (a == b)
          set_err(err, errlen, "%s:%ld:%ld: error: empty field", path, line, utf8_chars(buf + start, a - start) + 1);
        else
          set_err(err, errlen, "%s:%ld:%ld: error: bad number '%s'", path, line,
                  utf8_chars(buf + start, a - start) + 1, shown);
        goto fail;
      }
      if (number_value(buf + a, b - a, &v)) {
        set_err(err, errlen, "%s: error: out of memory", path);
        goto fail;
      }
      if (!(v >= -DBL_MAX && v <= DBL_MAX)) {
        char shown[200];
        quote_field(shown, sizeof shown, buf + a, b - a);
        set_err(err, errlen, "%s:%ld:%ld: error: number out of range '%s'", path, line,
                utf8_chars(buf + start, a - start) + 1, shown);
        goto fail;
      }
      if (count == cap) {
        size_t ncap = cap ? cap * 2 : 1024;
        double *bigger = ncap > (size_t)-1 / sizeof *values ? NULL : (double *)realloc(values, ncap * sizeof *values);
        if (!bigger) {
          set_err(err, errlen, "%s: error: out of memory", path);
          goto fail;
        }
        values = bigger;
        cap = ncap;
      }
      values[count++] = v;
      fields++;
      if (q == end)
        break;
      p = q + 1;
    }
    if (rows == 0) {
      cols = fields;
    } else if (fields != cols) {
      set_err(err, errlen, "%s:%ld: error: %d column%s, expected %d", path, line, fields, fields == 1 ? "" : "s",
              cols);
      goto fail;
    }
    if (rows == 2147483647) {
      set_err(err, errlen, "%s:%ld: error: too many rows", path, line);
      goto fail;
    }
    rows++;
  }
  free(buf);
  if (rows == 0) {
    set_err(err, errlen, "%s: error: no data rows", path);
    free(values);
    return -1;
  }
  out->rows = rows;
  out->cols = cols;
  out->values = values;
  return 0;

fail:
  free(buf);
  free(values);
  return -1;
}

void dcc_csv_free(dcc_csv *csv) {
  if (!csv)
    return;
  free(csv->values);
  csv->values = NULL;
  csv->rows = csv->cols = 0;
}

void dcc_csv_to_reals(const dcc_csv *csv, dcc_real *dst) {
  size_t n = (size_t)csv->rows * (size_t)csv->cols;
  for (size_t i = 0; i < n; i++)
    dst[i] = (dcc_real)csv->values[i];
}

/* ======================================================================
 * Preparing the data
 * ====================================================================== */

int dcc_csv_columns(const dcc_csv *csv, int first_col, int n_cols, dcc_real *dst, int stride) {
  if (!csv || (csv->rows > 0 && !csv->values) || !dst || first_col < 0 || n_cols < 0 ||
      first_col > csv->cols - n_cols || stride < n_cols)
    return -1;
  for (int r = 0; r < csv->rows; r++)
    for (int j = 0; j < n_cols; j++)
      dst[(size_t)r * (size_t)stride + (size_t)j] =
          (dcc_real)csv->values[(size_t)r * (size_t)csv->cols + (size_t)(first_col + j)];
  return 0;
}

int dcc_one_hot(const dcc_csv *csv, int label_col, int n_classes, dcc_real *dst, int stride, char *err,
                size_t errlen) {
  if (err && errlen)
    err[0] = 0;
  if (!csv || (csv->rows > 0 && !csv->values) || !dst || label_col < 0 || label_col >= csv->cols ||
      n_classes < 1 || stride < n_classes) {
    set_err(err, errlen, "error: invalid argument");
    return -1;
  }
  for (int r = 0; r < csv->rows; r++) { /* every label first: on an error, nothing is written */
    double c = csv->values[(size_t)r * (size_t)csv->cols + (size_t)label_col];
    if (!(c >= 0 && c < n_classes) || c != (double)(int)c) {
      set_err(err, errlen, "data row %d: class %.17g is not one of 0 .. %d", r + 1, c, n_classes - 1);
      return -1;
    }
  }
  for (int r = 0; r < csv->rows; r++) {
    int c = (int)csv->values[(size_t)r * (size_t)csv->cols + (size_t)label_col];
    for (int k = 0; k < n_classes; k++)
      dst[(size_t)r * (size_t)stride + (size_t)k] = (dcc_real)(k == c);
  }
  return 0;
}

int dcc_standardize(dcc_real *data, int rows, int stride, int n_cols, dcc_real *mean, dcc_real *std) {
  if (!data || !mean || !std || rows < 1 || n_cols < 0 || stride < n_cols)
    return -1;
  for (int j = 0; j < n_cols; j++) {
    /* in double, whatever dcc_real is; each term divided by rows, so that
     * the sums cannot overflow */
    double m = 0, var = 0;
    for (int r = 0; r < rows; r++)
      m += (double)data[(size_t)r * (size_t)stride + (size_t)j] / rows;
    for (int r = 0; r < rows; r++) {
      double d = (double)data[(size_t)r * (size_t)stride + (size_t)j] - m;
      var += d * d / rows;
    }
    mean[j] = (dcc_real)m;
    std[j] = (dcc_real)(var > 0 ? sqrt(var) : 1);
    if (!(std[j] > 0)) /* a variance below float's range */
      std[j] = 1;
  }
  return dcc_standardize_apply(data, rows, stride, n_cols, mean, std);
}

int dcc_standardize_apply(dcc_real *data, int rows, int stride, int n_cols, const dcc_real *mean,
                          const dcc_real *std) {
  if (!data || !mean || !std || rows < 0 || n_cols < 0 || stride < n_cols)
    return -1;
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < n_cols; j++) {
      dcc_real *x = data + (size_t)r * (size_t)stride + (size_t)j;
      *x = (*x - mean[j]) / std[j];
    }
  return 0;
}

int dcc_split(dcc_real *data, int rows, int row_len, double test_fraction, uint32_t seed) {
  if (!data || rows < 0 || row_len < 1 || !(test_fraction >= 0 && test_fraction <= 1))
    return -1;
  uint32_t rng = seed;
  for (int i = rows - 1; i > 0; i--) {
    int k = (int)(dcc_rng_next(&rng) % (uint32_t)(i + 1));
    dcc_real *a = data + (size_t)i * (size_t)row_len, *b = data + (size_t)k * (size_t)row_len;
    for (int j = 0; j < row_len && k != i; j++) {
      dcc_real t = a[j];
      a[j] = b[j];
      b[j] = t;
    }
  }
  return rows - (int)ceil(test_fraction * rows);
}

/* ======================================================================
 * Scoring
 * ====================================================================== */

int dcc_argmax(const dcc_real *v, int n) {
  if (!v || n < 1)
    return -1;
  int best = 0;
  for (int k = 1; k < n; k++)
    if (v[k] > v[best] || (v[best] != v[best] && v[k] == v[k]))
      best = k;
  return best;
}

double dcc_accuracy(void (*outputs)(const dcc_real *in, const dcc_real *p, dcc_real *out), int n_out,
                    const dcc_real *p, const dcc_real *data, int rows, int n_in, int label_col, int out_col,
                    int n_classes, int *confusion) {
  if (!outputs || !p || (!data && rows > 0) || rows < 0 || n_classes < 1 || label_col < 0 ||
      label_col > n_in - n_classes || out_col < 0 || out_col > n_out - n_classes)
    return -1;
  if (rows == 0)
    return 0;
  dcc_real *out = (dcc_real *)malloc((size_t)n_out * sizeof *out);
  if (!out)
    return -1;
  int right = 0;
  for (int r = 0; r < rows; r++) {
    const dcc_real *row = data + (size_t)r * (size_t)n_in;
    outputs(row, p, out);
    int truth = dcc_argmax(row + label_col, n_classes), guess = dcc_argmax(out + out_col, n_classes);
    right += truth == guess;
    if (confusion)
      confusion[truth * n_classes + guess]++;
  }
  free(out);
  return (double)right / rows;
}

/* ======================================================================
 * Firmware
 * ====================================================================== */

static int is_identifier(const char *s) {
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || is_digit(*s)))
      return 0;
  return 1;
}

/* v as a C literal of the type: the shortest %.*g that the type needs to
 * give v back exactly (9 digits for float, 17 for double), with '.' as the
 * decimal point whatever the locale, a '.0' when %g wrote an integer, and
 * an 'f' suffix for float. */
static void c_literal(char *buf, size_t len, double v, int is_float) {
  char tmp[64];
  const char *dp = localeconv()->decimal_point;
  snprintf(tmp, sizeof tmp, "%.*g", is_float ? 9 : 17, v);
  size_t k = 0;
  int has_point = 0;
  for (const char *c = tmp; *c && k + 4 < len;) {
    if (dp && *dp && !strncmp(c, dp, strlen(dp))) {
      buf[k++] = '.';
      c += strlen(dp);
      has_point = 1;
      continue;
    }
    has_point |= *c == '.' || *c == 'e';
    buf[k++] = *c++;
  }
  if (!has_point) {
    buf[k++] = '.';
    buf[k++] = '0';
  }
  if (is_float)
    buf[k++] = 'f';
  buf[k] = 0;
}

int dcc_write_c_array(FILE *f, const char *type, const char *name, const dcc_real *v, int n) {
  int is_float = type && !strcmp(type, "float");
  if (!f || !type || (!is_float && strcmp(type, "double")) || !name || !is_identifier(name) || !v || n < 1) {
    errno = EINVAL;
    return -1;
  }
  for (int i = 0; i < n; i++) {
    double x = (double)v[i];
    if (!(x >= -DBL_MAX && x <= DBL_MAX) || (is_float && !(x >= -FLT_MAX && x <= FLT_MAX))) {
      errno = EINVAL;
      return -1;
    }
  }
  fprintf(f, "static const %s %s[%d] = {\n", type, name, n);
  for (int i = 0; i < n; i++) {
    char lit[64];
    double x = (double)v[i];
    c_literal(lit, sizeof lit, is_float ? (double)(float)x : x, is_float);
    fprintf(f, "%s%s,%s", i % 6 ? " " : "  ", lit, i % 6 == 5 || i == n - 1 ? "\n" : "");
  }
  fputs("};\n", f);
  if (fflush(f) != 0 || ferror(f)) {
    if (!errno)
      errno = EIO;
    return -1;
  }
  return 0;
}
