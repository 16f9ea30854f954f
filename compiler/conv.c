/* conv.c — the geometry of convolutions and pooling, for every pass.
 *
 * A convolution correlates an input [c][l] (1-D) or [c][h][w] (2-D) with
 * kernels [o][c][k] or [o][c][kh][kw] (depthwise: [c][k], [c][kh][kw], one
 * kernel per channel), with a stride and zero padding on both sides: the
 * padding is a bound on the loops, never a padded copy.  Pooling is a
 * depthwise window of k (per side) with stride k and no padding.  The
 * three ops of each family (the op, its adjoint in the input, its adjoint
 * in the kernels) share one geometry, and conv_each() visits their terms
 * in one order for the evaluator and unroll.c; the loop emitter
 * (emit_conv.c) writes the same loops in C. */
#include "dcc.h"

/* The input's and the kernels' shapes of conv-family node nd, whichever of
 * them are its operands and which its own shape. */
static void conv_shapes(const Dag *d, const Node *nd, Shape *x, Shape *k) {
  Shape a = d->nodes[nd->a[0]].shape, b = nd->nops > 1 ? d->nodes[nd->a[1]].shape : SCALAR;
  switch ((Op)nd->op) {
  case OP_CONV: case OP_DWCONV: *x = a, *k = b; break;
  case OP_CONV_X: case OP_DWCONV_X: *x = nd->shape, *k = b; break;
  case OP_CONV_K: case OP_DWCONV_K: *x = a, *k = nd->shape; break;
  case OP_AVGPOOL: case OP_WMAX: *x = a, *k = SCALAR; break;
  case OP_AVGPOOL_X: case OP_UNWMAX: *x = nd->shape, *k = SCALAR; break;
  default: *x = *k = SCALAR; break;
  }
}

ConvGeom conv_geom(const Dag *d, const Node *nd) {
  Shape x, k;
  conv_shapes(d, nd, &x, &k);
  ConvGeom g = {0};
  Op op = (Op)nd->op;
  g.pool = op == OP_AVGPOOL || op == OP_AVGPOOL_X || op == OP_WMAX || op == OP_UNWMAX;
  g.depthwise = g.pool || op == OP_DWCONV || op == OP_DWCONV_X || op == OP_DWCONV_K;
  g.dims = x.rank - 1;
  g.C = x.dim[0];
  g.H = g.dims == 2 ? x.dim[1] : 1;
  g.W = x.dim[x.rank - 1];
  if (g.pool) {
    g.O = g.C;
    g.KH = g.dims == 2 ? nd->index : 1;
    g.KW = nd->index;
    g.stride = nd->index;
  } else {
    g.O = k.dim[0];
    g.KH = g.dims == 2 ? k.dim[k.rank - 2] : 1;
    g.KW = k.dim[k.rank - 1];
    g.stride = nd->index;
    g.ph = g.dims == 2 ? nd->aux : 0;
    g.pw = nd->aux;
  }
  g.OH = (g.H + 2 * g.ph - g.KH) / g.stride + 1;
  g.OW = (g.W + 2 * g.pw - g.KW) / g.stride + 1;
  return g;
}

bool op_is_conv(Op op) {
  switch (op) {
  case OP_CONV: case OP_CONV_X: case OP_CONV_K: case OP_DWCONV: case OP_DWCONV_X: case OP_DWCONV_K:
  case OP_AVGPOOL: case OP_AVGPOOL_X: case OP_WMAX: case OP_UNWMAX:
    return true;
  default:
    return false;
  }
}

int conv_out_size(int n, int k, int stride, int pad) { return (n + 2 * pad - k) / stride + 1; }

void conv_each(const ConvGeom *g, ConvTerm *f, void *ctx) {
  for (int o = 0; o < g->O; o++)
    for (int y = 0; y < g->OH; y++)
      for (int x = 0; x < g->OW; x++)
        for (int c = g->depthwise ? o : 0; c < (g->depthwise ? o + 1 : g->C); c++)
          for (int i = 0; i < g->KH; i++) {
            int iy = y * g->stride + i - g->ph;
            if (iy < 0 || iy >= g->H)
              continue; /* padding */
            for (int j = 0; j < g->KW; j++) {
              int ix = x * g->stride + j - g->pw;
              if (ix >= 0 && ix < g->W)
                f(ctx, g, o, y, x, c, i, j, iy, ix);
            }
          }
}

int conv_in_at(const ConvGeom *g, int c, int iy, int ix) { return (c * g->H + iy) * g->W + ix; }

int conv_out_at(const ConvGeom *g, int o, int y, int x) { return (o * g->OH + y) * g->OW + x; }

int conv_k_at(const ConvGeom *g, int o, int c, int i, int j) {
  return ((g->depthwise ? o : o * g->C + c) * g->KH + i) * g->KW + j;
}
