/* The bare-metal example, and the parity check run on the host and under qemu.
 *
 * Reads 28x28 uint8 MNIST-format images one after another from mnist_images.bin, writes the
 * probabilities (10 float32 per image) to mnist_probabilities.bin, and, when
 * mnist_expected.bin is there (the host build's probabilities), counts the images whose
 * probabilities differ from it in any bit. Exit code: 0 when every image matched (or there was
 * nothing to compare with), 1 when some differed or no image could be read.
 * On a board, files are the host's, through semihosting (newlib's rdimon).
 */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "mnist_model.h"

#define IMAGE_BYTES (MNIST_IMAGE_SIZE * MNIST_IMAGE_SIZE)

static FILE *open_unbuffered(const char *name, const char *mode)
{
    FILE *file = fopen(name, mode);
    if (file != NULL)
        setvbuf(file, NULL, _IONBF, 0); /* no stdio buffers: 8 KB of RAM must do */
    return file;
}

int main(void)
{
    static uint8_t image[IMAGE_BYTES];
    float probabilities[MNIST_NUM_CLASSES], expected[MNIST_NUM_CLASSES];
    FILE *images, *output, *reference;
    unsigned long count = 0, differing = 0;
    unsigned long long instructions = 0;
    unsigned long stack = 0, used;
    unsigned long long spent;

    board_init();
    setvbuf(stdout, NULL, _IONBF, 0);
    images = open_unbuffered("mnist_images.bin", "rb");
    output = open_unbuffered("mnist_probabilities.bin", "wb");
    reference = open_unbuffered("mnist_expected.bin", "rb");
    if (images == NULL || output == NULL) {
        printf("cannot open mnist_images.bin or mnist_probabilities.bin\n");
        return 1;
    }
    while (fread(image, 1, IMAGE_BYTES, images) == IMAGE_BYTES) {
        board_predict(image, probabilities, &spent, &used);
        instructions += spent;
        stack = used > stack ? used : stack;
        fwrite(probabilities, sizeof probabilities, 1, output);
        if (reference != NULL) {
            if (fread(expected, sizeof expected, 1, reference) != 1
                || memcmp(expected, probabilities, sizeof expected) != 0)
                differing++;
        }
        count++;
    }
    fclose(output);
    printf("model %s images %lu differing %lu compared %d instructions_per_image %lu "
           "stack_bytes %lu\n",
           MNIST_MODEL_NAME, count, differing, reference != NULL,
           count ? (unsigned long)(instructions / count) : 0ul, stack);
    return count == 0 || differing != 0;
}
