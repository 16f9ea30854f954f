/* fw_stack.h — how deep a call takes the stack, measured on the board:
 * fill the stack below the caller with a pattern, make the call, find the
 * deepest word it overwrote.  Only on the Cortex-M build; the host build
 * reports nothing (make firmware-test compares the rest of the output). */
#ifndef FW_STACK_H
#define FW_STACK_H

#include <stdint.h>

#if defined(__arm__)
#ifndef FW_PAINT_WORDS
#define FW_PAINT_WORDS 8192 /* 32 KB below the caller: enough for the digits programs */
#endif
#define FW_PAINT 0xA5A5A5A5u

static volatile uint32_t *fw_top;

/* Paint below the caller's frame (this function's own frame is above the
 * painted words' top, 64 bytes below its stack pointer). */
static __attribute__((noinline)) void fw_stack_paint(void) {
    uint32_t *sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    fw_top = sp - 16;
    for (volatile uint32_t *w = fw_top - FW_PAINT_WORDS; w < fw_top; w++)
        *w = FW_PAINT;
}

/* Bytes of the painted region overwritten since fw_stack_paint, plus the
 * 64 bytes it left above it: an upper bound of the call's stack. */
static __attribute__((noinline)) long fw_stack_used(void) {
    for (volatile uint32_t *w = fw_top - FW_PAINT_WORDS; w < fw_top; w++)
        if (*w != FW_PAINT)
            return (long)(fw_top - w) * 4 + 64;
    return 64;
}
#define FW_HAVE_STACK 1
#else
#define FW_HAVE_STACK 0
#endif

#endif
