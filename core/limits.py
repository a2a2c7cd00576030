"""What one input may cost, named once. `predict`, `evaluate`, `show` and the service all
refuse inputs beyond these before decoding them, so no single file can exhaust a device.

Measured peaks below are of a whole `mnist-edge predict` process, about 90 MB of it the
interpreter, NumPy, Pillow and onnxruntime with the model loaded."""

import os

MAX_PIXELS = 50_000_000  # width x height of an image: a 48-megapixel phone photo fits
MAX_DECODED_BYTES = 96 * 2**20  # what decoding one image may hold: Pillow keeps RGB and RGBA
# in 4 bytes a pixel and a palette image with transparency is converted to RGBA (a second
# copy), so 96 MiB keeps the whole process under 300 MB: 25 MP of colour, 48 MP of 16-bit grey.
# JPEGs are decoded at reduced scale first; what a decoder holds beside the frame counts too
# (a multi-scan JPEG's coefficients, libwebp's canvases: see runtime/images.py).
MAX_IMAGE_FILE_BYTES = 32 * 2**20  # an image file's bytes, checked before any is read. A
# 48 MP phone JPEG is 10-25 MB (the noisy 8000x6000 photo of the hostile suite is 21 MB at
# quality 92); metadata that Pillow reads whole (a TIFF tag, a PNG chunk, an XMP block) costs
# up to 4 times its size (a 48 MiB TIFF tag through libtiff: 283 MB).
MAX_EXIF_BYTES = 2**20  # an EXIF block: a JPEG's fits in one 64 KiB segment; PNG and WebP
# allow more, and Pillow copies a large one about five times (48 MiB: 375 MB) to orient it.
MAX_HEADER_READS = 100_000  # reads Pillow may make of one image file. Its parsers read
# each JPEG marker, PNG chunk, GIF block or BMP run in Python, one or two reads each (3-25 us,
# by the machine's load): 31 MiB of empty PNG chunks, 7 s to parse, is refused after 0.3-1 s.
# A real file needs far fewer: one read per 64 KiB of data, per PNG chunk (libpng writes 8 KiB
# ones: 4,096 in 32 MiB) or per TIFF strip (at most MAX_TIFF_VALUES).
MAX_TIFF_VALUES = 65_536  # values in one numeric TIFF tag (strip offsets, colour maps): Pillow
# turns each into a Python object, and each strip into a tile: 2,000,000 strips (18 MB) took
# 715 MB and 12 s. An image stored a row a strip has as many strips as rows (a 50 MP photo:
# 6,000-8,000); a 16-bit colour map (196,608 values) is refused.
MAX_JPEG_SCANS = 500  # scans of one JPEG: libjpeg-turbo's fuzzers stop at 500; a baseline
# JPEG has 1, libjpeg's progressive script writes 6 (grey), 10 (colour) or 18 (CMYK).
MAX_JPEG_MARKERS = 10_000  # markers of one JPEG (restarts not counted): a real one has tens
MAX_JPEG_SCAN_BLOCKS = 16_000_000  # 8x8 blocks decoded over all scans of one JPEG (scans x
# blocks): an AC refinement scan costs about 55 ns a block, so this is under a second of CPU.
# Every progressive file libjpeg writes within MAX_DECODED_BYTES fits: CMYK, 18 scans, needs
# 12.6 million at most; 4:4:4 colour, 10 scans, 6.7 million.
MAX_ARRAY_IMAGES = 1_000_000  # images in one .npy, .npz or IDX file (MNIST has 70,000)
MAX_ARRAY_BYTES = 2**30  # bytes of one array once decompressed: 1 GiB
MAX_NPZ_MEMBERS = 1_000  # members of one .npz: an array file needs a few (Keras's mnist.npz
# has 4); zipfile makes an object per member of the directory (a million: 641 MB, 10 s)
MAX_NPZ_DIRECTORY_BYTES = 2**20  # its zip directory: 1,000 members with names of 1 KB

# What one run may ask for, so that no option can exhaust a device either.
MAX_BATCH = 16_384  # images per model call: a batch and the two decoded ahead of it hold
# about 50 MB of items; past a few thousand images a call is no faster
MAX_WORKERS = 64  # decoding threads (or Ray actors) of one run
# onnxruntime threads past the cores only wait for each other: 256 threads took 235 s for the
# 10,000 test images on 2 cores (1.7 s with 2), and 100,000 grow memory by 50 MB/s
MAX_THREADS = 4 * (os.cpu_count() or 1)


def default_decode_threads() -> int:
    """Decoding threads (or, for small images, processes) when none are asked for: one per
    core this process may run on, up to 4 (more gain little on a small device)."""
    return min(4, usable_cores())


def usable_cores() -> int:
    """The cores this process may run on (`taskset`, a container's cpuset), else all."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
