/* five_points_fw.c — the five-point network trained on the device:
 * the float code dcc generates (five_points.expr --real float) and the
 * runtime's dcc_sgd, per-sample SGD for 250 epochs at rate 2.5, then 0.5
 * from epoch 101, from init seed 15 (make demo's run).  It prints every
 * epoch's loss (the sum over the five samples) and the predictions.
 *
 * The same file builds for the host (make firmware-test compares the two);
 * on the board, printf goes out through semihosting.  No malloc: the
 * params, the gradient and the runtime's accumulator are static.  On the
 * board it also measures one more epoch: its stack (fw_stack.h) and its
 * SysTick ticks (fw_ticks.h). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "dcc_train.h"
#include "five_points.h"
#include "fw_stack.h"
#include "fw_ticks.h"

#define N_SAMPLES 5

/* x1, x2, label: the model's in[] */
static const dcc_real data[N_SAMPLES][3] = {
    {0, 0, 1}, {1, 0, 0}, {0, -1, 0}, {-1, 0, 0}, {0, 1, 0},
};

static dcc_real p[FIVE_POINTS_N_PARAMS], grad[FIVE_POINTS_N_PARAMS], acc[FIVE_POINTS_N_PARAMS];

static void on_epoch(void *ctx, const dcc_epoch_report *r) {
    (void)ctx;
    printf("EPOCH: %3d  LOSS: %.6g\n", r->epoch + 1, (double)r->loss_sum);
}

int main(void) {
    static const int until[] = {100, INT_MAX};
    static const dcc_real rates[] = {2.5f, 0.5f};
    dcc_model m = DCC_MODEL(five_points, FIVE_POINTS);
    dcc_workspace w = {grad, acc, NULL, NULL};
    dcc_sgd_options o = dcc_sgd_defaults(250, 0);
    o.batch_size = 1;
    o.schedule_until = until;
    o.schedule_rate = rates;
    o.schedule_len = 2;
    o.on_epoch = on_epoch;
    five_points_init(p, 15);
    printf("five-point network, float: per-sample SGD, 250 epochs, seed 15\n");
    dcc_sgd(&m, p, &data[0][0], N_SAMPLES, &o, &w);
    for (int i = 0; i < N_SAMPLES; i++) {
        dcc_real out[FIVE_POINTS_N_OUT];
        five_points_outputs(data[i], p, out);
        printf("SAMPLE: %d  TRUE: %d  PRED: %.6g\n", i, (int)data[i][2], (double)out[FIVE_POINTS_OUT_fout]);
    }
    o.epochs = 1;
    o.on_epoch = NULL;
#if FW_HAVE_TICKS
    /* What training costs: one more epoch (five updates), without printing. */
    fw_ticks_start();
    uint32_t t0 = fw_ticks_now();
    dcc_sgd(&m, p, &data[0][0], N_SAMPLES, &o, &w);
    printf("ticks: one epoch of dcc_sgd with five_points_loss_grad: %lu SysTick ticks in %d steps\n",
           (unsigned long)fw_ticks_since(t0), N_SAMPLES);
    /* What a tick is: 200000 instructions. */
    printf("ticks: calibration: %lu SysTick ticks for 200000 instructions\n",
           (unsigned long)fw_ticks_of_instructions(100000));
#endif
#if FW_HAVE_STACK
    /* The stack of training itself: one more epoch, without printing. */
    fw_stack_paint();
    dcc_sgd(&m, p, &data[0][0], N_SAMPLES, &o, &w);
    printf("stack: one epoch of dcc_sgd with five_points_loss_grad: %ld bytes (FIVE_POINTS_STACK_loss_grad %d)\n",
           fw_stack_used(), FIVE_POINTS_STACK_loss_grad);
#endif
    return 0;
}
