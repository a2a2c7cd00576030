/* A Cortex-M under qemu: instructions counted with SysTick, stack use measured by painting.
 *
 * Under `qemu-system-arm -icount shift=0` every instruction advances the virtual clock by
 * one nanosecond, so SysTick counts instructions at a fixed rate. That rate is measured at
 * start-up on a loop of known length, so the count does not depend on the board's clock.
 * Cycles on real silicon differ (wait states, multi-cycle instructions).
 */
#include "board.h"
#include "mnist_model.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYSTICK_MASK 0xFFFFFFu
#define CALIBRATION_LOOPS 200000u /* two instructions each: subs, bne */
#define PAINT 0xA5A5A5A5u
#define PAINT_WORDS 1024u /* the stack below the caller painted before each call: 4 KB */

extern uint32_t __stack_limit[];

static uint32_t ticks_per_million; /* SysTick ticks per million instructions */

static uint32_t elapsed(uint32_t start, uint32_t end)
{
    return (start - end) & SYSTICK_MASK; /* SysTick counts down */
}

void board_init(void)
{
    uint32_t loops = CALIBRATION_LOOPS, start;
    SYST_RVR = SYSTICK_MASK;
    SYST_CVR = 0;
    SYST_CSR = 5u; /* enabled, processor clock, no interrupt */
    start = SYST_CVR;
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(loops) : : "cc");
    ticks_per_million = (uint32_t)((unsigned long long)elapsed(start, SYST_CVR) * 1000000u
                                   / (2u * CALIBRATION_LOOPS));
}

int board_predict(const uint8_t *image, float *probabilities, unsigned long long *instructions,
                  unsigned long *stack_bytes)
{
    uint32_t *sp, *bottom;
    volatile uint32_t *word; /* volatile: a memset call here would paint over its own frame */
    uint32_t start, end;
    int digit;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    bottom = sp - PAINT_WORDS < __stack_limit ? __stack_limit : sp - PAINT_WORDS;
    for (word = bottom; word < sp; word++)
        *word = PAINT;
    start = SYST_CVR;
    digit = mnist_predict(image, probabilities);
    end = SYST_CVR;
    for (word = bottom; word < sp && *word == PAINT; word++)
        ;
    *stack_bytes = (unsigned long)((uint8_t *)sp - (uint8_t *)word);
    *instructions = (unsigned long long)elapsed(start, end) * 1000000u / ticks_per_million;
    return digit;
}
