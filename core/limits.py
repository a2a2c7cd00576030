"""What one input may cost, named once. `predict`, `evaluate`, `show` and the service all
refuse inputs beyond these before decoding them, so no single file can exhaust a device."""

import os

MAX_PIXELS = 50_000_000  # width x height of an image: a 48-megapixel phone photo fits
MAX_DECODED_BYTES = 96 * 2**20  # an image's decoded frame: Pillow holds RGB and RGBA in 4
# bytes a pixel and a palette image with transparency is converted to RGBA (a second copy),
# so 96 MiB keeps the whole process under 300 MB: 25 MP of colour, 48 MP of 16-bit grey.
# JPEGs are decoded at reduced scale first.
MAX_ARRAY_IMAGES = 1_000_000  # images in one .npy, .npz or IDX file (MNIST has 70,000)
MAX_ARRAY_BYTES = 2**30  # bytes of one array once decompressed: 1 GiB

# What one run may ask for, so that no option can exhaust a device either.
MAX_BATCH = 16_384  # images per model call: a batch and the two decoded ahead of it hold
# about 50 MB of items; past a few thousand images a call is no faster
MAX_WORKERS = 64  # decoding threads (or Ray actors) of one run


def default_decode_threads() -> int:
    """Decoding threads when none are asked for: one per core up to 4 (large images decode
    in C, in parallel; more than 4 gain little on a small device)."""
    return min(4, os.cpu_count() or 1)
