/* digits_fw.c — a 64-32-10 digits classifier trained on the device: the
 * loop code dcc generates for examples/multiclass/digits.expr (--real
 * float) and its fused step digits_sgd_step, which updates the params in
 * place without a gradient array, so training needs the weights' RAM and
 * little more.  The images (pixels 0..16, one byte each) and labels are
 * in flash: digits_data.c, made from examples/multiclass/digits.csv by
 * make.  It trains on the first DIGITS_TRAIN images, in order, for EPOCHS
 * epochs at rate RATE, and prints the accuracy on them and on the next
 * DIGITS_TEST.  The same file builds for the host.  On the board it also
 * counts the SysTick ticks of the last epoch's steps (fw_ticks.h). */
#include <stdint.h>
#include <stdio.h>

#include "digits.h"
#include "digits_data.h"
#include "fw_stack.h"
#include "fw_ticks.h"

#define EPOCHS 8
#define RATE 0.05f

static digits_real p[DIGITS_N_PARAMS];

/* The model's in[]: the pixels scaled to [0, 1], then the one-hot label. */
static void sample(int k, digits_real *in) {
    for (int i = 0; i < 64; i++)
        in[i] = (digits_real)digits_pixels[k][i] / 16;
    for (int c = 0; c < 10; c++)
        in[64 + c] = c == digits_labels[k] ? 1.0f : 0.0f;
}

static int predict(const digits_real *in) {
    digits_real prob[DIGITS_N_OUT];
    digits_outputs(in, p, prob);
    int best = 0;
    for (int c = 1; c < 10; c++)
        if (prob[DIGITS_OUT_prob + c] > prob[DIGITS_OUT_prob + best])
            best = c;
    return best;
}

static int correct(int from, int n) {
    digits_real in[DIGITS_N_IN];
    int right = 0;
    for (int k = from; k < from + n; k++) {
        sample(k, in);
        right += predict(in) == digits_labels[k];
    }
    return right;
}

int main(void) {
    digits_real in[DIGITS_N_IN];
    unsigned long long ticks = 0; /* of the last epoch's steps */
    fw_ticks_start();
    digits_init(p, 1);
    printf("digits 64-32-10, float: %d training images, %d held out, %d epochs at %g\n", DIGITS_TRAIN,
           DIGITS_TEST, EPOCHS, (double)RATE);
    for (int e = 0; e < EPOCHS; e++) {
        double loss = 0;
        for (int k = 0; k < DIGITS_TRAIN; k++) {
            sample(k, in);
            uint32_t t0 = fw_ticks_now();
            digits_real l = digits_sgd_step(p, in, RATE);
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
    printf("ticks: digits_sgd_step: %llu SysTick ticks in %d steps (the last epoch's)\n", ticks, DIGITS_TRAIN);
#else
    (void)ticks;
#endif
#if FW_HAVE_STACK
    /* The stack of one training step (the last image again). */
    sample(DIGITS_TRAIN - 1, in);
    fw_stack_paint();
    digits_sgd_step(p, in, RATE);
    printf("stack: digits_sgd_step: %ld bytes (DIGITS_STACK_sgd_step %d)\n", fw_stack_used(), DIGITS_STACK_sgd_step);
#endif
    return 0;
}
