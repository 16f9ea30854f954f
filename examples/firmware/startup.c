/* startup.c — reset for a Cortex-M4F under qemu's mps2-an386: the vector
 * table, then copy .data from flash to RAM, give the FPU to the program
 * (CPACR, coprocessors 10 and 11: float code traps without it) and hand
 * over to newlib's _start, which clears .bss, sets up semihosting for
 * printf and calls main; main's return ends qemu through semihosting. */
#include <stdint.h>

extern uint32_t __etext, __data_start__, __data_end__, __stack_top;
extern void _start(void);
void reset_handler(void);

static void hang(void) {
    for (;;) {
    }
}

/* the initial stack pointer, then reset, NMI, faults, SVCall, PendSV, SysTick */
__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&__stack_top, reset_handler, hang, hang, hang, hang, hang, 0, 0, 0, 0, hang, hang, 0, hang, hang,
};

void reset_handler(void) {
    uint32_t *src = &__etext, *dst = &__data_start__;
    while (dst < &__data_end__)
        *dst++ = *src++;
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20; /* CPACR: CP10, CP11 full access */
    __asm volatile("dsb\n\tisb");
    _start();
    hang();
}
