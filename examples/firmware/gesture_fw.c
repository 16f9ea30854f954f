/* gesture_fw.c — what training the gesture models of examples/gesture
 * costs on the device: the 533-param depthwise-separable CNN
 * (examples/gesture/gesture.expr) here, the 9446-param one of three full
 * convolutions (gesture_large.expr) in gesture_large_fw.c, which includes
 * this file.  Both in float, trained with their fused step (the params
 * updated in place, no gradient array, the loops' workspace on the stack:
 * the least RAM a training step takes) for STEPS steps on two windows made
 * here, a shake along x and a tap on z, in turn.  It prints each step's
 * loss, and on the board the ticks of the steps (fw_ticks.h) and the stack
 * of one step (fw_stack.h); make size adds the weights and the sample and
 * says whether a step fits the RAM of a 64 KB device.  The same file
 * builds for the host. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#ifdef GESTURE_LARGE
#include "gesture_large.h"
#define M(f) gesture_large_##f
#define MU(f) GESTURE_LARGE_##f
#define NAME "gesture_large"
#define NAME_U "GESTURE_LARGE"
#else
#include "gesture.h"
#define M(f) gesture_##f
#define MU(f) GESTURE_##f
#define NAME "gesture"
#define NAME_U "GESTURE"
#endif
#define FW_PAINT_WORDS 16384 /* 64 KB below the caller: the large model's step takes over 32 */
#include "fw_stack.h"
#include "fw_ticks.h"

#define STEPS 6
#define RATE 0.01f
#define LEN 64

typedef M(real) real;
static real p[MU(N_PARAMS)];

/* Window 0: gravity on z, a 4 Hz shake of 0.8 g along x (gesture 1);
 * window 1: gravity, a tap of 2 g on z at sample 30 (gesture 4). */
static void window(int which, real *in) {
    for (int k = 0; k < LEN; k++) {
        float shake = which == 0 ? 0.8f * sinf(0.50265482f * (float)k) : 0.0f; /* 2 pi 4 / 50 */
        float d = (float)(k - 30) / 1.5f;
        float tap = which == 1 ? 2.0f * expf(-d * d) : 0.0f;
        in[MU(IN_s) + k] = shake;
        in[MU(IN_s) + LEN + k] = 0.0f;
        in[MU(IN_s) + 2 * LEN + k] = 1.0f + tap;
    }
    for (int c = 0; c < 6; c++)
        in[MU(IN_t) + c] = c == (which == 0 ? 1 : 4) ? 1.0f : 0.0f;
}

int main(void) {
    real in[MU(N_IN)];
    unsigned long ticks = 0;
    fw_ticks_start();
    M(init)(p, 1);
    printf("%s: %d params, %d bytes of weights (float); %d steps of %s_sgd_step at %g\n", NAME, MU(N_PARAMS),
           (int)sizeof p, STEPS, NAME, (double)RATE);
    for (int s = 0; s < STEPS; s++) {
        window(s % 2, in);
        uint32_t t0 = fw_ticks_now();
        real loss = M(sgd_step)(p, in, RATE);
        ticks += fw_ticks_since(t0);
        printf("STEP: %d  WINDOW: %d  LOSS: %.6g\n", s + 1, s % 2, (double)loss);
    }
#if FW_HAVE_TICKS
    printf("ticks: %s_sgd_step: %lu SysTick ticks in %d steps\n", NAME, ticks, STEPS);
#else
    (void)ticks;
#endif
#if FW_HAVE_STACK
    window(0, in);
    fw_stack_paint();
    M(sgd_step)(p, in, RATE);
    printf("stack: %s_sgd_step: %ld bytes (%s_STACK_sgd_step %d)\n", NAME, fw_stack_used(), NAME_U,
           MU(STACK_sgd_step));
#endif
    return 0;
}
