/* Reset and the vector table for a Cortex-M3/M4 without an operating system.
 *
 * The reset handler copies .data from flash, zeroes .bss, turns the FPU on when the code was
 * built for it, opens newlib's semihosting handles and calls main; main's return value goes
 * to the host as the exit code (qemu's own exit code).
 */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];
extern int main(void);
extern void initialise_monitor_handles(void);

void reset_handler(void);
void fault_handler(void);

/* Linking with -nostartfiles: newlib's exit() still calls these. */
void _init(void)
{
}

void _fini(void)
{
}

void fault_handler(void)
{
    exit(2); /* a fault ends the run with a failure the host can see */
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    __stack_top,   /* initial stack pointer */
    reset_handler, /* reset */
    fault_handler, /* NMI */
    fault_handler, /* hard fault */
    fault_handler, /* memory management fault */
    fault_handler, /* bus fault */
    fault_handler, /* usage fault */
};

void reset_handler(void)
{
    uint32_t *from = __data_load, *to = __data_start;
    while (to < __data_end)
        *to++ = *from++;
    for (to = __bss_start; to < __bss_end; to++)
        *to = 0;
#if defined(__ARM_FP)
    /* CPACR: full access to coprocessors 10 and 11 (the FPU), before any float instruction */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    initialise_monitor_handles();
    exit(main());
}
