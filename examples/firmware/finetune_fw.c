/* finetune_fw.c — the digits MLP of examples/finetune, pretrained on the
 * host, fine-tuned on the device to digits shifted two pixels right (a
 * camera that moved: the host never saw a shifted digit).
 *
 * make builds it three times, each against its own compilation of
 * examples/finetune/digits.expr with the pretrained params (dcc --weights
 * FILE --real float --prefix tune; FILE is what examples/finetune
 * --export writes after pretraining on the plain digits):
 *
 *   finetune_full  every param: p[] holds all 2410 (the comparison)
 *   finetune_last  --train W2,b2 (last.dccflags): p[] holds the last
 *                  layer's 330, W1 and b1 are constant arrays in flash
 *   finetune_bias  --train b1,b2 (bias.dccflags): p[] holds the 42
 *                  biases, W1 and W2 in flash
 *
 * tune_init copies the pretrained values into p[]; tune_sgd_step, the
 * fused step, updates p[] in place (no gradient array) and keeps the
 * workspace on the stack, so training needs p[], the sample and the
 * step's stack.  The images are in flash (finetune_data.c): FT_TRAIN of
 * the rows the host trained on, which the board shifts, and the FT_TEST
 * rows it held out.  The program prints the held-out accuracy, shifted
 * and plain, before and after EPOCHS epochs at RATE on the shifted
 * training images, in order.  The same file builds for the host.  On the
 * board it also counts the SysTick ticks of the last epoch's steps
 * (fw_ticks.h) and measures a step's stack (fw_stack.h). */
#include <stdint.h>
#include <stdio.h>

#include "finetune_data.h"
#include "fw_stack.h"
#include "fw_ticks.h"
#include "tune.h"

#ifndef FT_NAME
#error "define FT_NAME: which params this build trains (full, last, bias)"
#endif

#define EPOCHS 10
#define RATE 0.05f
#define SHIFT 2 /* pixels to the right: examples/finetune's shift */

static tune_real p[TUNE_N_PARAMS];

/* The model's in[]: the pixels moved right by `shift` (the columns they
 * leave blank), scaled to [0, 1], then the one-hot label. */
static void sample(const uint8_t *pixels, int label, int shift, tune_real *in) {
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 8; c++)
            in[TUNE_IN_x + r * 8 + c] = c >= shift ? (tune_real)pixels[r * 8 + c - shift] / 16 : 0.0f;
    for (int c = 0; c < 10; c++)
        in[TUNE_IN_t + c] = c == label ? 1.0f : 0.0f;
}

/* How many of the held-out digits, moved by `shift`, the model gets right. */
static int correct(int shift) {
    tune_real in[TUNE_N_IN], prob[TUNE_N_OUT];
    int right = 0;
    for (int k = 0; k < FT_TEST; k++) {
        sample(ft_test_pixels[k], ft_test_labels[k], shift, in);
        tune_outputs(in, p, prob);
        int best = 0;
        for (int c = 1; c < 10; c++)
            if (prob[TUNE_OUT_prob + c] > prob[TUNE_OUT_prob + best])
                best = c;
        right += best == ft_test_labels[k];
    }
    return right;
}

static void report(const char *when) {
    int shifted = correct(SHIFT), plain = correct(0);
    printf("%s: held-out accuracy %.4f shifted (%d/%d), %.4f plain (%d/%d)\n", when, (double)shifted / FT_TEST,
           shifted, FT_TEST, (double)plain / FT_TEST, plain, FT_TEST);
}

int main(void) {
    tune_real in[TUNE_N_IN];
    unsigned long long ticks = 0; /* of the last epoch's steps */
    fw_ticks_start();
    tune_init(p, 1); /* the pretrained params (--weights: the seed is not used) */
    printf("finetune_%s: the digits MLP pretrained on the host, %d of its %d params in RAM and trained\n", FT_NAME,
           TUNE_N_PARAMS, 32 * 64 + 32 + 10 * 32 + 10 /* W1, b1, W2, b2 */);
    printf("fine-tuning on %d digits shifted %d pixels right, %d epochs at %g; %d held-out digits\n", FT_TRAIN, SHIFT,
           EPOCHS, (double)RATE, FT_TEST);
    report("before");
    for (int e = 0; e < EPOCHS; e++) {
        double loss = 0;
        for (int k = 0; k < FT_TRAIN; k++) {
            sample(ft_train_pixels[k], ft_train_labels[k], SHIFT, in);
            uint32_t t0 = fw_ticks_now();
            tune_real l = tune_sgd_step(p, in, RATE);
            uint32_t dt = fw_ticks_since(t0);
            if (e == EPOCHS - 1)
                ticks += dt;
            loss += (double)l;
        }
        printf("EPOCH: %d  LOSS: %.6g\n", e + 1, loss / FT_TRAIN);
    }
    report("after");
#if FW_HAVE_TICKS
    printf("ticks: tune_sgd_step: %llu SysTick ticks in %d steps (the last epoch's)\n", ticks, FT_TRAIN);
#else
    (void)ticks;
#endif
#if FW_HAVE_STACK
    /* The stack of one training step (the last image again). */
    sample(ft_train_pixels[FT_TRAIN - 1], ft_train_labels[FT_TRAIN - 1], SHIFT, in);
    fw_stack_paint();
    tune_sgd_step(p, in, RATE);
    printf("stack: tune_sgd_step: %ld bytes (TUNE_STACK_sgd_step %d)\n", fw_stack_used(), TUNE_STACK_sgd_step);
#endif
    return 0;
}
