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
  if (largest_tensor(b) > (size % 2 ? 1 : DCC_UNROLL_LIMIT))
    b->loops = true;
  else
    unroll(b);
  int *adj = diff_reverse(b->dag, b->loss);
  int *grads = xcalloc((size_t)m->n_params + 1, sizeof *grads);
  for (int j = 0; j < m->n_params; j++)
    grads[j] = -1;
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    for (int k = 0; k < (b->loops ? 1 : shape_size(s->shape)); k++) {
      int leaf = b->param_leaf[s->offset + k];
      grads[s->offset + k] = adj[leaf] >= 0 ? adj[leaf] : dag_fill(b->dag, 0, b->dag->nodes[leaf].shape);
    }
  }
  free(adj);
  int *map = lower(b->dag);
  b->loss = map[b->loss];
  for (int j = 0; j < m->n_params; j++)
    if (grads[j] >= 0)
      grads[j] = map[grads[j]];
  for (int i = 0; i < m->outputs.n; i++) {
    Sym *s = m->outputs.v[i];
    for (int k = 0; k < (b->loops ? 1 : shape_size(s->shape)); k++)
      b->out_ids[s->offset + k] = map[b->out_ids[s->offset + k]];
  }
  free(map);
  bool *wrt = xcalloc((size_t)m->inputs.n + 1, sizeof *wrt);
  int *wrt_grads = xcalloc((size_t)m->n_in + 1, sizeof *wrt_grads);
  for (int j = 0; j < m->n_in; j++)
    wrt_grads[j] = -1;
  EmitOpts eo = {"fz", "<fuzz>", NULL, false, false, b, grads, wrt_grads, wrt, NULL};
  Buf out = {0};
  emit_source(&out, &eo);
  free(out.s);
  return 0;
}
