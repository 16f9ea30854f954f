/* digits_cnn_fw.c — the digits CNN of examples/digits_cnn (a 3x3
 * convolution to 8 maps, relu, 2x2 max pooling, a dense layer; 1370
 * params) trained on the device: dcc's loop code for digits_cnn.expr
 * (--real float) and its fused step digits_cnn_sgd_step, which updates the
 * params in place without a gradient array and keeps its workspace on the
 * stack, so training needs the weights' RAM and the step's stack
 * (DIGITS_CNN_STACK_sgd_step).  The images are digits_fw.c's: the first
 * DIGITS_TRAIN of the UCI digits in flash, trained on in order for EPOCHS
 * epochs at rate RATE, then the accuracy on them and on the next
 * DIGITS_TEST.  The same file builds for the host.
 *
 * On the board it also counts what a training step costs (fw_ticks.h):
 * the SysTick ticks of each step of the last epoch, summed; make
 * firmware-test runs it under qemu -icount, where a tick is a fixed number
 * of instructions (examples/firmware/README.md). */
#include <stdint.h>
#include <stdio.h>

#include "digits_cnn.h"
#include "digits_data.h"
#include "fw_stack.h"
#include "fw_ticks.h"

#define EPOCHS 8
#define RATE 0.05f

static digits_cnn_real p[DIGITS_CNN_N_PARAMS];

/* The model's in[]: the pixels scaled to [0, 1], then the one-hot label. */
static void sample(int k, digits_cnn_real *in) {
    for (int i = 0; i < 64; i++)
        in[DIGITS_CNN_IN_x + i] = (digits_cnn_real)digits_pixels[k][i] / 16;
    for (int c = 0; c < 10; c++)
        in[DIGITS_CNN_IN_t + c] = c == digits_labels[k] ? 1.0f : 0.0f;
}

static int predict(const digits_cnn_real *in) {
    digits_cnn_real prob[DIGITS_CNN_N_OUT];
    digits_cnn_outputs(in, p, prob);
    int best = 0;
    for (int c = 1; c < 10; c++)
        if (prob[DIGITS_CNN_OUT_prob + c] > prob[DIGITS_CNN_OUT_prob + best])
            best = c;
    return best;
}

static int correct(int from, int n) {
    digits_cnn_real in[DIGITS_CNN_N_IN];
    int right = 0;
    for (int k = from; k < from + n; k++) {
        sample(k, in);
        right += predict(in) == digits_labels[k];
    }
    return right;
}

int main(void) {
    digits_cnn_real in[DIGITS_CNN_N_IN];
    fw_ticks_start();
    unsigned long long ticks = 0; /* of the last epoch's steps */
    digits_cnn_init(p, 1);
    printf("digits CNN (conv 3x3 x8, relu, max pool 2x2, dense), float, %d params: %d training images, %d held "
           "out, %d epochs at %g\n",
           DIGITS_CNN_N_PARAMS, DIGITS_TRAIN, DIGITS_TEST, EPOCHS, (double)RATE);
    for (int e = 0; e < EPOCHS; e++) {
        double loss = 0;
        for (int k = 0; k < DIGITS_TRAIN; k++) {
            sample(k, in);
            uint32_t t0 = fw_ticks_now();
            digits_cnn_real l = digits_cnn_sgd_step(p, in, RATE);
            uint32_t dt = fw_ticks_since(t0);
            if (e == EPOCHS - 1)
                ticks += dt;
            loss += (double)l;
        }
        printf("EPOCH: %d  LOSS: %.6g\n", e + 1, loss / DIGITS_TRAIN);
    }
    int train = correct(0, DIGITS_TRAIN), test = correct(DIGITS_TRAIN, DIGITS_TEST);
    printf("train accuracy %.4f (%d/%d)\n", (double)train / DIGITS_TRAIN, train, DIGITS_TRAIN);
    printf("held-out accuracy %.4f (%d/%d)\n", (double)test / DIGITS_TEST, test, DIGITS_TEST);
#if FW_HAVE_TICKS
    printf("ticks: digits_cnn_sgd_step: %llu SysTick ticks in %d steps (the last epoch's)\n", ticks, DIGITS_TRAIN);
#else
    (void)ticks;
#endif
#if FW_HAVE_STACK
    /* The stack of one training step (the last image again). */
    sample(DIGITS_TRAIN - 1, in);
    fw_stack_paint();
    digits_cnn_sgd_step(p, in, RATE);
    printf("stack: digits_cnn_sgd_step: %ld bytes (DIGITS_CNN_STACK_sgd_step %d)\n", fw_stack_used(),
           DIGITS_CNN_STACK_sgd_step);
#endif
    return 0;
}
