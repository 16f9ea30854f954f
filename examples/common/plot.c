/* plot.c — the examples' pictures as SVG: loss curves and a two-input
 * classifier's decision boundary.  See plot.h. */
#include "plot.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Characters (not bytes: UTF-8 continuation bytes do not count) in s[0, n). */
static long utf8_chars(const char *s, size_t n) {
  long k = 0;
  for (size_t i = 0; i < n; i++)
    k += ((unsigned char)s[i] & 0xC0) != 0x80;
  return k;
}

/* A number with at most two decimals, trailing zeros dropped, never "-0";
 * without printf so that the locale cannot change the decimal point. */
static void put_num(FILE *f, double v) {
  char s[40];
  int k = 0;
  double r = v * 100;
  if (!(r > -1e15 && r < 1e15))
    r = r > 0 ? 1e15 : -1e15; /* also NaN: clamped, the picture stays valid */
  long long n = (long long)(r < 0 ? r - 0.5 : r + 0.5);
  int neg = n < 0;
  unsigned long long u = neg ? (unsigned long long)-n : (unsigned long long)n;
  unsigned long long ip = u / 100, fp = u % 100;
  char digits[32];
  int nd = 0;
  do
    digits[nd++] = (char)('0' + ip % 10);
  while (ip /= 10);
  if (neg)
    s[k++] = '-';
  while (nd)
    s[k++] = digits[--nd];
  if (fp) {
    s[k++] = '.';
    s[k++] = (char)('0' + fp / 10);
    if (fp % 10)
      s[k++] = (char)('0' + fp % 10);
  }
  s[k] = 0;
  fputs(s, f);
}

/* i * m * 10^e exactly, for a tick label (m in {1, 2, 5}): with -e
 * decimals when e < 0, so that the labels of an axis line up (0.0 0.5 1.0). */
static void put_tick(FILE *f, long long i, int m, int e) {
  long long n = i * m;
  int neg = n < 0;
  unsigned long long u = neg ? (unsigned long long)-n : (unsigned long long)n;
  char digits[64];
  int nd = 0;
  if (e > 6 || e < -5) { /* very large or small: printf, with the digits of n */
    char s[64];
    int digits = 1;
    for (unsigned long long k = u; k >= 10; k /= 10)
      digits++;
    snprintf(s, sizeof s, "%.*g", digits, (double)n * pow(10, e));
    for (char *c = s; *c; c++)
      if (*c == ',')
        *c = '.';
    fputs(s, f);
    return;
  }
  if (u == 0 && e >= 0) {
    fputc('0', f);
    return;
  }
  for (int z = 0; z < e; z++)
    digits[nd++] = '0';
  int frac = e < 0 ? -e : 0, written = 0;
  while (u || written <= frac) {
    if (frac && written == frac)
      digits[nd++] = '.';
    digits[nd++] = (char)('0' + u % 10);
    u /= 10;
    written++;
  }
  if (neg)
    digits[nd++] = '-';
  while (nd)
    fputc(digits[--nd], f);
}

/* Text content or attribute value: escaped, control characters and broken
 * UTF-8 as '?', at most maxchars characters (then "..."). */
static void put_text(FILE *f, const char *s, size_t maxchars) {
  size_t chars = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned char c = *p;
    int len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    int ok = len > 0;
    for (int i = 1; ok && i < len; i++)
      ok = (p[i] & 0xC0) == 0x80;
    if (ok && len == 3)
      ok = !(c == 0xE0 && p[1] < 0xA0) && !(c == 0xED && p[1] > 0x9F);
    if (ok && len == 4)
      ok = !(c == 0xF0 && p[1] < 0x90) && !(c == 0xF4 && p[1] > 0x8F);
    if (chars++ == maxchars) {
      fputs("...", f);
      return;
    }
    if (!ok) {
      fputc('?', f);
      p++;
      continue;
    }
    if (len > 1) {
      fwrite(p, 1, (size_t)len, f);
      p += len;
      continue;
    }
    switch (c) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&apos;", f); break;
    default: fputc(c < 0x20 || c == 0x7F ? '?' : (char)c, f);
    }
    p++;
  }
}

static size_t text_chars(const char *s, size_t maxchars) {
  size_t n = (size_t)utf8_chars(s, strlen(s));
  return n > maxchars ? maxchars + 3 : n;
}

static const char *const palette[10] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

/* A "nice" step (1, 2 or 5 times 10^e) for about `target` ticks over range. */
static void nice_step(double range, int target, int *m, int *e) {
  double raw = range / target;
  if (!(raw > 0) || raw > 1e300)
    raw = 1;
  int ex = (int)floor(log10(raw));
  double frac = raw / pow(10, ex);
  int mm = frac <= 1.0000001 ? 1 : frac <= 2.0000001 ? 2 : frac <= 5.0000001 ? 5 : 10;
  if (mm == 10) {
    mm = 1;
    ex++;
  }
  *m = mm;
  *e = ex;
}

static double step_value(int m, int e) { return m * pow(10, e); }

static FILE *svg_open(const char *path, int width, int height) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return NULL;
  fprintf(f,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
          "font-family=\"sans-serif\" font-size=\"12\">\n",
          width, height, width, height);
  fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height);
  return f;
}

static int svg_close(FILE *f, const char *path) {
  fputs("</svg>\n", f);
  int bad = ferror(f);
  int e = errno;
  if (fclose(f) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  if (bad) {
    remove(path);
    errno = e ? e : EIO;
    return -1;
  }
  return 0;
}

static void svg_title(FILE *f, const char *title, double x, double y) {
  if (!title || !*title)
    return;
  fputs("<text x=\"", f);
  put_num(f, x);
  fputs("\" y=\"", f);
  put_num(f, y);
  fputs("\" text-anchor=\"middle\" font-size=\"15\">", f);
  put_text(f, title, 120);
  fputs("</text>\n", f);
}

static void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *style) {
  fputs("<line x1=\"", f);
  put_num(f, x1);
  fputs("\" y1=\"", f);
  put_num(f, y1);
  fputs("\" x2=\"", f);
  put_num(f, x2);
  fputs("\" y2=\"", f);
  put_num(f, y2);
  fprintf(f, "\" %s/>\n", style);
}

static void svg_label(FILE *f, double x, double y, const char *anchor, const char *extra) {
  fputs("<text x=\"", f);
  put_num(f, x);
  fputs("\" y=\"", f);
  put_num(f, y);
  fprintf(f, "\" text-anchor=\"%s\"%s>", anchor, extra);
}

/* Ticks, grid lines and labels of one axis: values lo..hi map to pixels
 * p0..p1; horizontal: an x axis at pixel row `at` (grid up to `far`), else
 * a y axis at pixel column `at` (grid across to `far`).  integer: ticks on
 * whole numbers only. */
static void svg_axis(FILE *f, double lo, double hi, double p0, double p1, int horizontal, double at, double far,
                     int target, int integer) {
  int m, e;
  nice_step(hi - lo, target, &m, &e);
  if (integer && e < 0) {
    m = 1;
    e = 0;
  }
  double step = step_value(m, e);
  if (!(fabs(lo / step) < 1e15 && fabs(hi / step) < 1e15))
    return; /* a range beyond doubles (e.g. -1e308 .. 1e308): no ticks */
  long long i0 = (long long)ceil(lo / step - 1e-9), i1 = (long long)floor(hi / step + 1e-9);
  if (i1 - i0 > 1000)
    i1 = i0 + 1000;
  for (long long i = i0; i <= i1; i++) {
    double v = (double)i * step;
    double px = p0 + (v - lo) / (hi - lo) * (p1 - p0);
    if (horizontal) {
      svg_line(f, px, at, px, far, "stroke=\"#e0e0e0\"");
      svg_line(f, px, at, px, at + 5, "stroke=\"#000000\"");
      svg_label(f, px, at + 18, "middle", "");
    } else {
      svg_line(f, at, px, far, px, "stroke=\"#e0e0e0\"");
      svg_line(f, at - 5, px, at, px, "stroke=\"#000000\"");
      svg_label(f, at - 8, px + 4, "end", "");
    }
    put_tick(f, i, m, e);
    fputs("</text>\n", f);
  }
}

static int is_finite(double v) { return v >= -DBL_MAX && v <= DBL_MAX; }

/* ---- loss curves ---- */

#define LC_W 640
#define LC_H 400
#define LC_L 70.0
#define LC_R 600.0
#define LC_T 40.0
#define LC_B 340.0
#define LC_MAX_DIRECT 2000 /* more points than this: 1000 min/max buckets */
#define LC_BUCKETS 1000
#define LEGEND_MAX 12
#define NAME_MAX_CHARS 40

typedef struct {
  FILE *f;
  int open;   /* inside a <polyline points="..."> */
  int count;  /* points in the open polyline */
  double lx, ly;
  const char *style;
} polyline;

static void pl_point(polyline *pl, double x, double y) {
  if (!pl->open) {
    fputs("<polyline fill=\"none\" ", pl->f);
    fputs(pl->style, pl->f);
    fputs(" points=\"", pl->f);
    pl->open = 1;
    pl->count = 0;
  } else {
    fputc(' ', pl->f);
  }
  put_num(pl->f, x);
  fputc(',', pl->f);
  put_num(pl->f, y);
  pl->lx = x;
  pl->ly = y;
  pl->count++;
}

static void pl_break(polyline *pl) {
  if (!pl->open)
    return;
  if (pl->count == 1) { /* a lone point: a short horizontal mark */
    fputc(' ', pl->f);
    put_num(pl->f, pl->lx + 1.5);
    fputc(',', pl->f);
    put_num(pl->f, pl->ly);
  }
  fputs("\"/>\n", pl->f);
  pl->open = 0;
}

int plot_loss_curves(const char *path, const char *title, const double *values, int n_series,
                     int n_points, const char *const *names) {
  return plot_series(path, title, "epoch", "loss", 1, values, n_series, n_points, names);
}

int plot_series(const char *path, const char *title, const char *x_label, const char *y_label, double x_first,
                const double *values, int n_series, int n_points, const char *const *names) {
  if (!path || n_series < 0 || n_points < 0 || (n_series > 0 && n_points > 0 && !values) ||
      !is_finite(x_first) || fabs(x_first) > 1e15) {
    errno = EINVAL;
    return -1;
  }
  size_t total = (size_t)n_series * (size_t)n_points;
  double lo = 0, hi = 0;
  int any = 0;
  for (size_t i = 0; i < total; i++)
    if (is_finite(values[i])) {
      if (!any || values[i] < lo)
        lo = values[i];
      if (!any || values[i] > hi)
        hi = values[i];
      any = 1;
    }
  if (!any) {
    lo = 0;
    hi = 1;
  }
  if (lo >= 0 && lo <= 0.5 * hi)
    lo = 0;
  if (hi - lo <= (fabs(hi) > fabs(lo) ? fabs(hi) : fabs(lo)) * 1e-9 || hi - lo < 1e-300) { /* flat */
    double d = fabs(hi) > 0 ? fabs(hi) * 0.1 : 1;
    lo = lo >= 0 && lo - d < 0 ? 0 : lo - d;
    hi += d;
  }
  {
    int m, e;
    nice_step(hi - lo, 5, &m, &e);
    double step = step_value(m, e);
    double nlo = floor(lo / step + 1e-9) * step, nhi = ceil(hi / step - 1e-9) * step;
    if (nhi > nlo) {
      lo = nlo;
      hi = nhi;
    }
  }
  double xlo = x_first, xhi = n_points > 1 ? x_first + (n_points - 1) : x_first + 1;
  if (n_points <= 1)
    xlo = x_first - 1;

  FILE *f = svg_open(path, LC_W, LC_H);
  if (!f)
    return -1;
  svg_title(f, title, (LC_L + LC_R) / 2, 24);
  svg_axis(f, xlo, xhi, LC_L, LC_R, 1, LC_B, LC_T, 8, 1);
  svg_axis(f, lo, hi, LC_B, LC_T, 0, LC_L, LC_R, 5, 0);
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#000000\"/>\n", (int)LC_L,
          (int)LC_T, (int)(LC_R - LC_L), (int)(LC_B - LC_T));
  if (x_label) {
    svg_label(f, (LC_L + LC_R) / 2, LC_B + 38, "middle", "");
    put_text(f, x_label, NAME_MAX_CHARS);
    fputs("</text>\n", f);
  }
  if (y_label) {
    svg_label(f, 18, (LC_T + LC_B) / 2, "middle", " transform=\"rotate(-90 18 190)\"");
    put_text(f, y_label, NAME_MAX_CHARS);
    fputs("</text>\n", f);
  }

  /* the curves */
  for (int s = 0; s < n_series; s++) {
    char style[160];
    static const char *const dashes[3] = {"", " stroke-dasharray=\"6 3\"", " stroke-dasharray=\"2 2\""};
    snprintf(style, sizeof style, "stroke=\"%s\" stroke-width=\"1.5\"%s", palette[s % 10], dashes[(s / 10) % 3]);
    polyline pl = {f, 0, 0, 0, 0, style};
    const double *v = values + (size_t)s * (size_t)n_points;
#define LC_X(i) (LC_L + ((i) + x_first - xlo) / (xhi - xlo) * (LC_R - LC_L))
#define LC_Y(y) (LC_B - ((y)-lo) / (hi - lo) * (LC_B - LC_T))
    if (n_points <= LC_MAX_DIRECT) {
      for (int i = 0; i < n_points; i++) {
        if (is_finite(v[i]))
          pl_point(&pl, LC_X((double)i), LC_Y(v[i]));
        else
          pl_break(&pl);
      }
    } else {
      for (int b = 0; b < LC_BUCKETS; b++) {
        int i0 = (int)((long long)n_points * b / LC_BUCKETS), i1 = (int)((long long)n_points * (b + 1) / LC_BUCKETS);
        int imin = -1, imax = -1, broken = 0;
        for (int i = i0; i < i1; i++) {
          if (!is_finite(v[i])) {
            broken = 1;
            continue;
          }
          if (imin < 0 || v[i] < v[imin])
            imin = i;
          if (imax < 0 || v[i] > v[imax])
            imax = i;
        }
        if (imin >= 0) {
          int first = imin < imax ? imin : imax, second = imin < imax ? imax : imin;
          pl_point(&pl, LC_X((double)first), LC_Y(v[first]));
          if (second != first)
            pl_point(&pl, LC_X((double)second), LC_Y(v[second]));
        }
        if (broken)
          pl_break(&pl);
      }
    }
    pl_break(&pl);
  }

  /* the legend */
  if (n_series > 0) {
    int entries = n_series > LEGEND_MAX ? LEGEND_MAX : n_series;
    size_t widest = 0;
    char fallback[32];
    for (int s = 0; s < entries; s++) {
      size_t w;
      if (names && names[s])
        w = text_chars(names[s], NAME_MAX_CHARS);
      else
        w = (size_t)snprintf(fallback, sizeof fallback, "series %d", s + 1);
      if (w > widest)
        widest = w;
    }
    if (n_series > entries && widest < 16)
      widest = 16;
    int rowsn = entries + (n_series > entries);
    double bw = 40 + 7.0 * (double)widest, bh = 8 + 16.0 * rowsn;
    double bx = LC_R - 8 - bw, by = LC_T + 8;
    fputs("<rect x=\"", f);
    put_num(f, bx);
    fputs("\" y=\"", f);
    put_num(f, by);
    fputs("\" width=\"", f);
    put_num(f, bw);
    fputs("\" height=\"", f);
    put_num(f, bh);
    fputs("\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#999999\"/>\n", f);
    for (int s = 0; s < entries; s++) {
      static const char *const dashes[3] = {"", " stroke-dasharray=\"6 3\"", " stroke-dasharray=\"2 2\""};
      double y = by + 16 + 16.0 * s;
      char style[160];
      snprintf(style, sizeof style, "stroke=\"%s\" stroke-width=\"2\"%s", palette[s % 10], dashes[(s / 10) % 3]);
      svg_line(f, bx + 6, y - 4, bx + 30, y - 4, style);
      svg_label(f, bx + 36, y, "start", "");
      if (names && names[s]) {
        put_text(f, names[s], NAME_MAX_CHARS);
      } else {
        snprintf(fallback, sizeof fallback, "series %d", s + 1);
        fputs(fallback, f);
      }
      fputs("</text>\n", f);
    }
    if (n_series > entries) {
      svg_label(f, bx + 36, by + 16 + 16.0 * entries, "start", "");
      fprintf(f, "... %d more</text>\n", n_series - entries);
    }
  }
  return svg_close(f, path);
}

/* ---- decision boundary ---- */

#define DB_PLOT 480.0
#define DB_L 60.0
#define DB_T 40.0
#define DB_W 680
#define DB_H 570
#define DB_LEVELS 32

static void mix(char out[8], const char *hex, double t) { /* hex blended with white: t=0 white, 1 hex */
  unsigned v = (unsigned)strtoul(hex + 1, NULL, 16);
  int rgb[3] = {(int)(v >> 16) & 255, (int)(v >> 8) & 255, (int)v & 255};
  for (int k = 0; k < 3; k++)
    rgb[k] = (int)(255 - (255 - rgb[k]) * t + 0.5);
  snprintf(out, 8, "#%02x%02x%02x", (unsigned)rgb[0], (unsigned)rgb[1], (unsigned)rgb[2]);
}

/* Two classes: the shade level of a probability (0 .. DB_LEVELS, -1 for
 * NaN); more: the class (-1 for none). */
static int cell_level(double v, int n_classes) {
  if (v != v)
    return -1;
  if (n_classes <= 2) {
    if (v < 0)
      v = 0;
    if (v > 1)
      v = 1;
    return (int)(v * DB_LEVELS + 0.5);
  }
  if (!(v > -0.5 && v < n_classes - 0.5))
    return -1;
  return (int)(v + 0.5);
}

static void level_colour(char out[8], int level, int n_classes) {
  if (level < 0) {
    strcpy(out, "#cccccc");
    return;
  }
  if (n_classes <= 2) {
    /* diverging: white at 0.5, deeper towards each class */
    double t = (double)level / DB_LEVELS - 0.5;
    mix(out, t < 0 ? palette[0] : palette[3], 0.9 * fabs(t));
    return;
  }
  mix(out, palette[level % 10], 0.35);
}

static const char *point_colour(int label, int n_classes) {
  int k = n_classes <= 2 ? 2 : n_classes;
  if (label < 0 || label >= k)
    return "#ffffff";
  if (n_classes <= 2)
    return label ? palette[3] : palette[0];
  return palette[label % 10];
}

static void auto_range(const plot_boundary *b, int axis, int stride, double *lo, double *hi) {
  double a = 0, z = 0;
  int any = 0;
  for (int i = 0; i < b->n_points; i++) {
    double v = b->points[(size_t)i * (size_t)stride + (size_t)axis];
    if (!is_finite(v))
      continue;
    if (!any || v < a)
      a = v;
    if (!any || v > z)
      z = v;
    any = 1;
  }
  if (!any) {
    a = -1;
    z = 1;
  }
  double d = z - a;
  if (d <= 0)
    d = fabs(a) > 0 ? 2 * fabs(a) : 2;
  *lo = a - 0.1 * d;
  *hi = z + 0.1 * d;
}

/* One segment of the boundary's <path>; the first one opens it. */
static void seg(FILE *f, int *first, double x1, double y1, double x2, double y2) {
  fputs(*first ? "<path fill=\"none\" stroke=\"#000000\" stroke-width=\"2\" stroke-linecap=\"round\" d=\"M" : " M",
        f);
  *first = 0;
  put_num(f, x1);
  fputc(' ', f);
  put_num(f, y1);
  fputs("L", f);
  put_num(f, x2);
  fputc(' ', f);
  put_num(f, y2);
}

int plot_decision_boundary(const char *path, const plot_boundary *b) {
  if (!path || !b || !b->predict || b->n_points < 0 || (b->n_points > 0 && !b->points) || b->stride < 0 ||
      b->stride == 1 || b->resolution < 0 || b->resolution == 1 || b->resolution > 1000 || b->n_classes < 0) {
    errno = EINVAL;
    return -1;
  }
  int res = b->resolution ? b->resolution : 60;
  int stride = b->stride ? b->stride : 2;
  int nc = b->n_classes;
  double x1lo = b->x1_min, x1hi = b->x1_max, x2lo = b->x2_min, x2hi = b->x2_max;
  if (!(x1lo < x1hi) || !is_finite(x1lo) || !is_finite(x1hi))
    auto_range(b, 0, stride, &x1lo, &x1hi);
  if (!(x2lo < x2hi) || !is_finite(x2lo) || !is_finite(x2hi))
    auto_range(b, 1, stride, &x2lo, &x2hi);

  double *grid = malloc((size_t)res * (size_t)res * sizeof *grid);
  if (!grid) {
    errno = ENOMEM;
    return -1;
  }
  double dx = (x1hi - x1lo) / res, dy = (x2hi - x2lo) / res;
  for (int j = 0; j < res; j++)
    for (int i = 0; i < res; i++)
      grid[(size_t)j * (size_t)res + (size_t)i] =
          b->predict(b->ctx, x1lo + (i + 0.5) * dx, x2lo + (j + 0.5) * dy);

  FILE *f = svg_open(path, DB_W, DB_H);
  if (!f) {
    int e = errno;
    free(grid);
    errno = e;
    return -1;
  }
  const double L = DB_L, T = DB_T, P = DB_PLOT, cw = P / res, ch = P / res;
  svg_title(f, b->title, L + P / 2, 24);

  /* the shaded cells: runs of one shade along each row */
  fputs("<g shape-rendering=\"crispEdges\">\n", f);
  for (int j = 0; j < res; j++) {
    const double *row = grid + (size_t)j * (size_t)res;
    for (int i = 0; i < res;) {
      int level = cell_level(row[i], nc), k = i + 1;
      while (k < res && cell_level(row[k], nc) == level)
        k++;
      char colour[8];
      level_colour(colour, level, nc);
      fputs("<rect x=\"", f);
      put_num(f, L + i * cw);
      fputs("\" y=\"", f);
      put_num(f, T + (res - 1 - j) * ch);
      fputs("\" width=\"", f);
      put_num(f, (k - i) * cw);
      fputs("\" height=\"", f);
      put_num(f, ch);
      fprintf(f, "\" fill=\"%s\"/>\n", colour);
      i = k;
    }
  }
  fputs("</g>\n", f);

  /* the boundary */
  int first = 1;
#define DB_X(fi) (L + ((fi) + 0.5) * cw)
#define DB_Y(fj) (T + (res - (fj)-0.5) * ch)
  if (nc <= 2) {
    for (int j = 0; j + 1 < res; j++)
      for (int i = 0; i + 1 < res; i++) {
        double v[4];
        v[0] = grid[(size_t)j * res + i];           /* bottom left */
        v[1] = grid[(size_t)j * res + i + 1];       /* bottom right */
        v[2] = grid[(size_t)(j + 1) * res + i + 1]; /* top right */
        v[3] = grid[(size_t)(j + 1) * res + i];     /* top left */
        int c = 0, ok = 1;
        for (int k = 0; k < 4; k++) {
          if (v[k] != v[k])
            ok = 0;
          c |= (v[k] >= 0.5) << k;
        }
        if (!ok || c == 0 || c == 15)
          continue;
        /* crossing points on the edges: 0 bottom (v0-v1), 1 right (v1-v2),
         * 2 top (v3-v2), 3 left (v0-v3); as (fi, fj) grid coordinates */
        double ex[4], ey[4];
        static const int ea[4] = {0, 1, 3, 0}, eb[4] = {1, 2, 2, 3};
        static const double ax[4] = {0, 1, 1, 0}, ay[4] = {0, 0, 1, 1};
        int cross[4], nx = 0;
        for (int k = 0; k < 4; k++) {
          double va = v[ea[k]], vb = v[eb[k]];
          cross[k] = (va >= 0.5) != (vb >= 0.5);
          if (!cross[k])
            continue;
          nx++;
          double t = (0.5 - va) / (vb - va);
          if (!(t >= 0))
            t = 0;
          if (t > 1)
            t = 1;
          ex[k] = i + ax[ea[k]] + t * (ax[eb[k]] - ax[ea[k]]);
          ey[k] = j + ay[ea[k]] + t * (ay[eb[k]] - ay[ea[k]]);
        }
        if (nx == 2) {
          int k1 = -1, k2 = -1;
          for (int k = 0; k < 4; k++)
            if (cross[k]) {
              if (k1 < 0)
                k1 = k;
              else
                k2 = k;
            }
          seg(f, &first, DB_X(ex[k1]), DB_Y(ey[k1]), DB_X(ex[k2]), DB_Y(ey[k2]));
        } else { /* a saddle: the centre decides which corners connect */
          int centre = (v[0] + v[1] + v[2] + v[3]) / 4 >= 0.5;
          /* pairs cutting off the corners that the centre does not join */
          int cut_bl_tr = (c == 5) != centre; /* corners 0 and 2 isolated */
          if (cut_bl_tr) {
            seg(f, &first, DB_X(ex[0]), DB_Y(ey[0]), DB_X(ex[3]), DB_Y(ey[3]));
            seg(f, &first, DB_X(ex[1]), DB_Y(ey[1]), DB_X(ex[2]), DB_Y(ey[2]));
          } else {
            seg(f, &first, DB_X(ex[0]), DB_Y(ey[0]), DB_X(ex[1]), DB_Y(ey[1]));
            seg(f, &first, DB_X(ex[2]), DB_Y(ey[2]), DB_X(ex[3]), DB_Y(ey[3]));
          }
        }
      }
  } else {
    for (int j = 0; j < res; j++)
      for (int i = 0; i < res; i++) {
        int c = cell_level(grid[(size_t)j * res + i], nc);
        if (i + 1 < res && cell_level(grid[(size_t)j * res + i + 1], nc) != c)
          seg(f, &first, L + (i + 1) * cw, T + (res - j) * ch, L + (i + 1) * cw, T + (res - 1 - j) * ch);
        if (j + 1 < res && cell_level(grid[(size_t)(j + 1) * res + i], nc) != c)
          seg(f, &first, L + i * cw, T + (res - 1 - j) * ch, L + (i + 1) * cw, T + (res - 1 - j) * ch);
      }
  }
  free(grid);
  if (!first)
    fputs("\"/>\n", f);

  /* frame, axes */
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#000000\"/>\n", (int)L, (int)T,
          (int)P, (int)P);
  svg_axis(f, x1lo, x1hi, L, L + P, 1, T + P, T, 6, 0);
  svg_axis(f, x2lo, x2hi, T + P, T, 0, L, L + P, 6, 0);
  svg_label(f, L + P / 2, T + P + 38, "middle", "");
  fputs("x1</text>\n", f);
  svg_label(f, 18, T + P / 2, "middle", "");
  fputs("x2</text>\n", f);

  /* the points, clipped to the view */
  fprintf(f, "<clipPath id=\"dcc-view\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/></clipPath>\n", (int)L,
          (int)T, (int)P, (int)P);
  fputs("<g clip-path=\"url(#dcc-view)\" stroke=\"#000000\" stroke-width=\"1\">\n", f);
  for (int i = 0; i < b->n_points; i++) {
    const double *pt = b->points + (size_t)i * (size_t)stride;
    fputs("<circle cx=\"", f);
    put_num(f, L + (pt[0] - x1lo) / (x1hi - x1lo) * P);
    fputs("\" cy=\"", f);
    put_num(f, T + (x2hi - pt[1]) / (x2hi - x2lo) * P);
    fprintf(f, "\" r=\"5\" fill=\"%s\"/>\n", b->labels ? point_colour(b->labels[i], nc) : "#ffffff");
  }
  fputs("</g>\n", f);

  /* the legend: class colours as squares (every circle is a data point) */
  {
    double lx = L + P + 16, ly = T + 6;
    int classes = nc <= 2 ? 2 : nc;
    int entries = classes > LEGEND_MAX ? LEGEND_MAX : classes;
    for (int k = 0; k < entries; k++) {
      double y = ly + 18.0 * k;
      fputs("<rect x=\"", f);
      put_num(f, lx);
      fputs("\" y=\"", f);
      put_num(f, y);
      fprintf(f, "\" width=\"10\" height=\"10\" fill=\"%s\" stroke=\"#000000\"/>\n", point_colour(k, nc));
      svg_label(f, lx + 16, y + 9, "start", "");
      fprintf(f, "class %d</text>\n", k);
    }
    double y = ly + 18.0 * entries;
    if (classes > entries) {
      svg_label(f, lx + 16, y + 9, "start", "");
      fprintf(f, "... %d more</text>\n", classes - entries);
      y += 18;
    }
    y += 8;
    svg_line(f, lx, y + 5, lx + 12, y + 5, "stroke=\"#000000\" stroke-width=\"2\"");
    svg_label(f, lx + 16, y + 9, "start", "");
    fputs(nc <= 2 ? "P(class 1) = 0.5</text>\n" : "boundary</text>\n", f);
    if (nc <= 2) {
      y += 18;
      svg_label(f, lx, y + 9, "start", "");
      fputs("shade: P(class 1)</text>\n", f);
    }
  }
  return svg_close(f, path);
}
