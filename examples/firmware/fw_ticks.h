/* fw_ticks.h — what a call costs in time, counted on the board by SysTick,
 * the Cortex-M's 24-bit down-counter, run from the processor clock
 * (CLKSOURCE = 1) without its interrupt: on a real Cortex-M4F a tick is a
 * cycle.  Under qemu-system-arm -icount shift=N (make firmware-test runs
 * shift=3) the emulated clock advances 2^N ns per instruction executed and
 * mps2-an386's processor clock is 25 MHz (40 ns a tick), so a tick is
 * 40 / 2^N instructions: 5 at shift=3 (fw_ticks_of_instructions measures
 * it).  Only on the Cortex-M build; the host build counts nothing (make
 * firmware-test compares the rest of the output). */
#ifndef FW_TICKS_H
#define FW_TICKS_H

#include <stdint.h>

#if defined(__arm__)
#define FW_SYST_CSR (*(volatile uint32_t *)0xE000E010u) /* control and status */
#define FW_SYST_RVR (*(volatile uint32_t *)0xE000E014u) /* reload value */
#define FW_SYST_CVR (*(volatile uint32_t *)0xE000E018u) /* current value */

/* Start SysTick counting down from 2^24 - 1, over and over: enable (bit 0),
 * the processor clock (bit 2), no interrupt (bit 1 clear). */
static inline void fw_ticks_start(void) {
    FW_SYST_RVR = 0xFFFFFFu;
    FW_SYST_CVR = 0;
    FW_SYST_CSR = 5;
}

/* The counter now, for fw_ticks_since. */
static inline uint32_t fw_ticks_now(void) { return FW_SYST_CVR; }

/* The ticks since fw_ticks_now gave t0: right for intervals under 2^24
 * ticks (the counter wraps). */
static inline uint32_t fw_ticks_since(uint32_t t0) { return (t0 - FW_SYST_CVR) & 0xFFFFFFu; }

/* The ticks of 2n instructions: a loop of n and one of 2n iterations of
 * two instructions (subs, bne), their difference, so that what surrounds
 * the loops cancels.  Under qemu -icount it checks the figure above
 * (make firmware-test prints it, make size divides by it). */
static inline uint32_t fw_ticks_of_instructions(uint32_t n) {
    uint32_t k = n, t0 = fw_ticks_now();
    __asm__ volatile("1: subs %0, %0, #1\n bne 1b\n" : "+r"(k) : : "cc");
    uint32_t one = fw_ticks_since(t0);
    k = 2 * n;
    t0 = fw_ticks_now();
    __asm__ volatile("1: subs %0, %0, #1\n bne 1b\n" : "+r"(k) : : "cc");
    return fw_ticks_since(t0) - one;
}
#define FW_HAVE_TICKS 1
#else
static inline void fw_ticks_start(void) {}
static inline uint32_t fw_ticks_now(void) { return 0; }
static inline uint32_t fw_ticks_since(uint32_t t0) { return t0; }
#define FW_HAVE_TICKS 0
#endif

#endif
