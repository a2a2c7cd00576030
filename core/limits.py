"""What one input may cost, named once. `predict`, `evaluate`, `show` and the service all
refuse inputs beyond these before decoding them, so no single file can exhaust a device."""

MAX_PIXELS = 50_000_000  # width x height of an image: a 48-megapixel phone photo fits
MAX_DECODED_BYTES = 96 * 2**20  # an image's decoded frame: Pillow holds RGB and RGBA in 4
# bytes a pixel and a palette image with transparency is converted to RGBA (a second copy),
# so 96 MiB keeps the whole process under 300 MB: 25 MP of colour, 48 MP of 16-bit grey.
# JPEGs are decoded at reduced scale first.
MAX_ARRAY_IMAGES = 1_000_000  # images in one .npy, .npz or IDX file (MNIST has 70,000)
MAX_ARRAY_BYTES = 2**30  # bytes of one array once decompressed: 1 GiB
MAX_NPZ_MEMBERS = 1_000  # members of one .npz: an array file needs a few (Keras's mnist.npz
# has 4); zipfile makes an object per member of the directory (a million: 641 MB, 10 s)
MAX_NPZ_DIRECTORY_BYTES = 2**20  # its zip directory: 1,000 members with names of 1 KB
