"""A folder of hostile inputs, made on the spot (no large file is committed).

Each case is something a camera, a scanner, a careless user or an attacker could leave in a
watched folder. `make_hostile` writes them beside a few good images and returns, for every
record `predict` must give, the fragment its error must contain (None: predicted).
Run it as a script to write the folder for a look: `python tests/hostile.py DIR`.
"""

import gzip
import io
import os
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_edge.core.arrayfiles import write_idx
from mnist_edge.core.limits import MAX_ARRAY_IMAGES

NOT_UTF8 = os.fsdecode(b"seven-\xff\xfe.png")  # a name whose bytes are not UTF-8
CARRIAGE_RETURN = "two\rlines.png"  # splits CSV rows unless quoted or escaped
SHOWN_AS = {NOT_UTF8: "seven-\\xff\\xfe.png", CARRIAGE_RETURN: "two\\rlines.png"}  # printed


def npy_header(shape: tuple[int, ...]) -> bytes:
    """A .npy header (version 1.0, uint8) declaring `shape`, with no data behind it."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": shape}
    )
    return b"\x93NUMPY\x01\x00" + header.getvalue()[8:]


def zip_bomb_npz(path: Path, images: int) -> None:
    """An .npz whose only member is `images` blank images: 76 kB per 100,000 images."""
    header = npy_header((images, 28, 28))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("x_test.npy", "w", force_zip64=True) as member:
            member.write(header)
            block = bytes(784 * 10_000)
            for _ in range(images // 10_000):
                member.write(block)


def sixteen_bit_giant(path: Path, digit: np.ndarray) -> None:
    """A 7000x7000 16-bit PNG (49 MP, 98 MB decoded) holding one digit: about 100 kB."""
    canvas = np.zeros((7000, 7000), dtype=np.uint16)
    big = np.asarray(Image.fromarray(digit).resize((2800, 2800), Image.Resampling.NEAREST))
    canvas[2000:4800, 2000:4800] = big.astype(np.uint16) * 257
    Image.fromarray(canvas).save(path, compress_level=9)


def rgba_at_the_limit(path: Path, digit: np.ndarray) -> None:
    """5000x5000 RGBA (25 MP, 95 MiB decoded, just under the limit): light strokes on
    transparent black, the worst case the decoded-size limit lets through."""
    alpha = np.asarray(Image.fromarray(digit).resize((2500, 2500), Image.Resampling.NEAREST))
    canvas = Image.new("RGBA", (5000, 5000))
    canvas.paste(Image.merge("RGBA", [Image.fromarray(alpha)] * 4), (1250, 1250))
    canvas.save(path, compress_level=1)


def crowded_npz(path: Path, images: np.ndarray, members: int, declared: int | None = None) -> None:
    """An .npz of `images` (as x_test) whose zip directory lists `members` entries: the array,
    then one empty member listed again and again (47 bytes an entry), with zip64 end records
    that say there are `declared` (by default, as many as there are)."""
    buffer = io.BytesIO()
    array = io.BytesIO()
    np.save(array, images)
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x_test.npy", array.getvalue())
        archive.writestr("p", b"")
    data = buffer.getvalue()
    end = data.rindex(b"PK\x05\x06")
    size, start = struct.unpack_from("<2L", data, end + 12)
    directory = data[start : start + size]
    last = directory.rindex(b"PK\x01\x02")
    body = data[:start] + directory[:last] + directory[last:] * (members - 1)
    size, declared = len(body) - start, declared or members
    zip64 = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, declared, declared, size, start
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(body), 1)
    record = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 2**32 - 1, 2**32 - 1, 0)
    path.write_bytes(body + zip64 + locator + record)


def float_tiff(path: Path, digit: np.ndarray, value: float) -> None:
    """The digit as a float TIFF (0-1) with one pixel set to `value`."""
    pixels = digit.astype(np.float32) / 255
    pixels[0, 0] = value
    Image.fromarray(pixels, "F").save(path)


def lab_tiff(path: Path, digit: np.ndarray) -> None:
    """The digit dark on white, as a CIELAB TIFF (as scanners and Photoshop can write)."""
    from PIL import ImageCms

    grey = Image.fromarray(255 - digit).resize((112, 112))
    srgb, lab = ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB")
    transform = ImageCms.buildTransform(srgb, lab, "RGB", "LAB")
    ImageCms.applyTransform(grey.convert("RGB"), transform).save(path)


def corrupt_exif_jpeg(path: Path, digit: np.ndarray) -> None:
    exif = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x05" + b"\xff" * 40
    Image.fromarray(255 - digit).resize((112, 112)).save(path, quality=90, exif=exif)


def make_hostile(folder: Path, x_test: np.ndarray) -> dict[str, str | None]:
    """Write the corpus into `folder`; return {record source (relative): error fragment}."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str | None] = {}

    def good(name: str, image: np.ndarray) -> None:
        Image.fromarray(image).save(folder / name)
        expected[name] = None

    def bad(name: str, content: bytes, error: str) -> None:
        (folder / name).write_bytes(content)
        expected[name] = error

    good("a-first-good.png", x_test[0])
    # 1. not zip archives, or cut short
    npz = io.BytesIO()
    np.savez_compressed(npz, x_test=x_test[:300])
    bad("b-truncated.npz", npz.getvalue()[: len(npz.getvalue()) // 2], "not a readable zip")
    bad("b-text.npz", b"shopping list: milk, eggs\n", "not a readable zip archive")
    # 2. small files that declare huge arrays
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as liar:
        liar.writestr("x_test.npy", npy_header((100_000_000, 28, 28)))  # 78 GB declared
    bad("c-declares-78gb.npz", archive.getvalue(), "header declares 100,000,000 images")
    billion = gzip.compress(struct.pack(">BBBB3i", 0, 0, 8, 3, 10**9, 1, 1))
    bad("c-billion-idx3-ubyte.gz", billion, "header declares 1,000,000,000 images")
    # 10. decompression bombs: past the image limit, and within it (streamed)
    zip_bomb_npz(folder / "d-two-million.npz", 2_000_000)
    expected["d-two-million.npz"] = f"the limit is {MAX_ARRAY_IMAGES:,} per file"
    header = struct.pack(">BBBB3i", 0, 0, 8, 3, 5_000_000, 28, 28)
    bad("d-five-million-idx3-ubyte.gz", gzip.compress(header + bytes(784 * 1000)), "limit is")
    sixteen_bit_giant(folder / "e-49mp-16bit.png", x_test[1])
    expected["e-49mp-16bit.png"] = None
    rgba_at_the_limit(folder / "e-25mp-rgba.png", x_test[5])  # 95 MiB decoded: allowed
    expected["e-25mp-rgba.png"] = None
    Image.new("RGB", (6000, 6000)).save(folder / "e-36mp-rgb.png")  # 137 MiB decoded: refused
    expected["e-36mp-rgb.png"] = "refusing to decode more than 96 MiB"
    Image.new("1", (10_000, 10_000)).save(folder / "e-100mp.png")  # warns in Pillow, refused
    expected["e-100mp.png"] = "refusing to decode more than 50 MP"
    # 3 and 16. names that break text output
    good(NOT_UTF8, x_test[0])
    good(CARRIAGE_RETURN, x_test[1])
    # 9. not a regular file, named as an input
    os.mkfifo(folder / "f-fifo.png")
    expected["f-fifo.png"] = "not a regular file (a FIFO)"
    (folder / "f-zero.npz").symlink_to("/dev/zero")
    expected["f-zero.npz"] = "not a regular file (a character device)"
    # 11 and 14. blank, empty, and misleading-message cases
    np.save(folder / "g-blank-inside.npy", np.stack([x_test[2], np.zeros((28, 28), np.uint8)]))
    expected["g-blank-inside.npy#0"] = None
    expected["g-blank-inside.npy#1"] = "no digit found"
    np.save(folder / "g-empty.npy", np.zeros((0, 28, 28), np.uint8))
    expected["g-empty.npy"] = "holds no images"
    bad("g-text.npy", b"not an array\n", "not an .npy array")
    # 15. warnings that must not leak to stderr
    corrupt_exif_jpeg(folder / "h-corrupt-exif.jpg", x_test[3])
    expected["h-corrupt-exif.jpg"] = None
    write_idx(folder / "i-pair-idx3-ubyte", x_test[4:6])
    expected["i-pair-idx3-ubyte#0"] = expected["i-pair-idx3-ubyte#1"] = None
    # issue 20: non-finite pixels refused as in arrays; CIELAB read by its lightness
    crowded_npz(folder / "m-million-members.npz", x_test[:10], 1_000_000)
    expected["m-million-members.npz"] = "lists 1,000,000 members"
    float_tiff(folder / "n-infinity.tif", x_test[3], np.inf)
    expected["n-infinity.tif"] = "contains NaN or infinite values"
    float_tiff(folder / "n-nan.tif", x_test[3], np.nan)
    expected["n-nan.tif"] = "contains NaN or infinite values"
    lab_tiff(folder / "n-lab.tif", x_test[4])
    expected["n-lab.tif"] = None
    good("z-last-good.png", x_test[7])
    return dict(sorted(expected.items()))  # the order predict reads a folder in


if __name__ == "__main__":
    from mnist_edge.core.mnist import load_mnist

    made = make_hostile(Path(sys.argv[1]), load_mnist().x_test)
    print(f"{len(made)} records expected, {sum(e is not None for e in made.values())} errors")
