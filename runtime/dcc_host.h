/* dcc_host.h — host-only helpers for training dcc's models on a PC: a CSV
 * loader.  Unlike dcc_train.[ch] this file uses stdio and malloc; leave
 * dcc_host.c out of firmware builds.
 *
 * C99.  Every symbol starts with dcc_.  Nothing depends on the locale: the
 * CSV loader reads '.' as the decimal point whatever the locale says. */
#ifndef DCC_HOST_H
#define DCC_HOST_H

#include <stddef.h>
#include <stdio.h>

#include "dcc_train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- CSV ---------------------------------------------------------------
 *
 * A table of numbers: comma-separated fields, one row a line.  Lines end in
 * LF or CRLF (the last one may lack it); spaces and tabs around a field are
 * ignored, and so are blank lines and a UTF-8 byte order mark.  A field is
 * a decimal number ([+-]digits[.digits][e[+-]digits], "1.", ".5" included)
 * whose value is finite; every row has the first row's number of fields. */
typedef struct {
  int rows;
  int cols;
  double *values; /* rows * cols values, row-major: values[r * cols + c] */
} dcc_csv;

/* Read path, skipping its first skip_lines lines (a header) whatever they
 * hold.  Returns 0 and fills *out (free it with dcc_csv_free), or returns
 * -1, leaves *out empty ({0, 0, NULL}) and writes one line into err (if err
 * is not NULL and errlen > 0; truncated to errlen - 1 characters), e.g.
 *
 *     data.csv: error: cannot open: No such file or directory
 *     data.csv: error: empty file
 *     data.csv: error: no data rows
 *     data.csv:3:7: error: bad number 'abc'
 *     data.csv:3:7: error: empty field
 *     data.csv:3:7: error: number out of range '1e999'
 *     data.csv:4: error: 3 columns, expected 5
 *
 * In path:LINE:COL, LINE counts every line, skipped and blank ones too; COL is
 * 1-based, in characters, the first non-blank character of the field.
 * A bad field is quoted with at most 40 characters, then "...". */
int dcc_csv_load(const char *path, int skip_lines, dcc_csv *out, char *err, size_t errlen);

/* Free the values and empty *csv; safe on an empty or freed table. */
void dcc_csv_free(dcc_csv *csv);

/* Copy the whole table into dst (rows * cols reals, row-major), converting
 * to dcc_real: the data argument of dcc_sgd when the columns are in the
 * model's input order. */
void dcc_csv_to_reals(const dcc_csv *csv, dcc_real *dst);

#ifdef __cplusplus
}
#endif

#endif
