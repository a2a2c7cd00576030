/* What the example needs from the machine it runs on: the host, or an emulated board. */
#ifndef BOARD_H
#define BOARD_H

#include <stdint.h>

void board_init(void);

/* mnist_predict on one image; on a board also the instructions it executed and the bytes of
 * stack it used (both 0 on the host). Returns the digit. */
int board_predict(const uint8_t *image, float *probabilities, unsigned long long *instructions,
                  unsigned long *stack_bytes);

#endif
