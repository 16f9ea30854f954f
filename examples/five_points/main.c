/* Lab 5's training run on the five-point data set, on the C that dcc
 * generated from five_points.expr: per-sample SGD for 250 epochs, rate 2.5
 * for the first 100 epochs and 0.5 after, then the predictions table.
 *
 * This loop is deliberately plain: it is all the glue a generated model
 * needs (five_points_loss_grad, FIVE_POINTS_N_PARAMS, five_points_init). */
#include <stdio.h>
#include <stdlib.h>

#include "five_points.h"

static const five_points_real data[5][3] = {
    /* x1, x2, label */
    {0, 0, 1}, {1, 0, 0}, {0, -1, 0}, {-1, 0, 0}, {0, 1, 0},
};

int main(int argc, char **argv)
{
    unsigned seed = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 5;
    five_points_real p[FIVE_POINTS_N_PARAMS], grad[FIVE_POINTS_N_PARAMS];
    five_points_init(p, seed);
    for (int epoch = 0; epoch < 250; epoch++) {
        five_points_real rate = epoch < 100 ? 2.5 : 0.5, epoch_loss = 0;
        for (int i = 0; i < 5; i++) {
            epoch_loss += five_points_loss_grad(data[i], p, grad);
            for (int j = 0; j < FIVE_POINTS_N_PARAMS; j++)
                p[j] -= rate * grad[j];
        }
        if ((epoch + 1) % 50 == 0)
            printf("EPOCH: %5d  LOSS: %.5f\n", epoch + 1, (double)epoch_loss);
    }
    for (int i = 0; i < 5; i++) {
        five_points_real out[FIVE_POINTS_N_OUT];
        five_points_outputs(data[i], p, out);
        printf("SAMPLE: %d  TRUE: %d  PRED: %.3f\n", i, (int)data[i][2], (double)out[FIVE_POINTS_OUT_fout]);
    }
    return 0;
}
