/* A libFuzzer target: every input runs the whole pipeline (lex, parse,
 * check, build, unrolling or loops, reverse mode, lowering, C emission)
 * in process, under AddressSanitizer and UBSan.  Bad input must end in diagnostics, never in
 * a crash, a sanitizer report or a hang.
 *
 *   make fuzz                      # fuzz for FUZZ_SECONDS (default 60)
 *   build/fuzz/fuzz_dcc CORPUS...  # replay inputs
 *
 * Diagnostics go to stderr; run with 2>/dev/null to keep the log short. */
#include "../../compiler/dcc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 20))
    return 0; /* the interesting inputs are small; big ones only take time */
  memset(&diags, 0, sizeof diags);
  Source src = {0};
  src.path = "<fuzz>";
  char *text = xmalloc(size + 1);
  memcpy(text, data, size);
  text[size] = 0;
  src.text = text;
  src.len = size;
  if (size >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
    src.bom = 3;
  source_index_lines(&src);
  diags.src = &src;
  Model *m = check(parse(&src, lex(&src)));
  if (diags.errors)
    return 0;
  Built *b = build(m, dag_new(true));
  if (diags.errors || b->loss < 0)
    return 0;
  /* Inputs of odd length take loops wherever there are tensors, even
   * length the default limit: both back ends get fuzzed. */
  if (dag_has_loops(b->dag) || largest_tensor(b) > (size % 2 ? 1 : DCC_UNROLL_LIMIT))
    b->loops = true;
  else
    unroll(b);
  bool *wrt = xcalloc((size_t)m->inputs.n + 1, sizeof *wrt);
  differentiate(b, wrt);
  warn_independent_params(b);
  if (diags.errors)
    return 0;
  lower(b);
  /* the source and its header, as main.c writes them */
  EmitOpts eo = {"fz", "<fuzz>", "fz.h", false, false, b, DCC_SPLIT_LIMIT};
  Code *code = plan_code(&eo);
  Buf header = {0}, out = {0};
  emit_header(&header, code);
  emit_source(&out, code);
  free(header.s);
  free(out.s);
  return 0;
}
