/* dcc_host.c — host-only helpers: the CSV loader.  See dcc_host.h.
 * C99 with stdio and malloc; not for firmware. */
#include "dcc_host.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
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
