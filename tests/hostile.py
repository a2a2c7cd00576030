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
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_edge.core.arrayfiles import write_idx
from mnist_edge.core.limits import MAX_ARRAY_IMAGES

MiB = 2**20
IMAGE_SIDE = 28
STORED_TURNED = {6: Image.Transpose.ROTATE_90}  # how a picture of EXIF orientation 6 is stored
XMP_ROTATED = (  # orientation 6 (turn clockwise to view), given only in XMP, as editors write it
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>'
    b'<?xpacket end="w"?>'
)

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


def rgba_at_the_limit(path: Path, digit: np.ndarray, orientation: int = 1) -> None:
    """5000x5000 RGBA (25 MP, 95 MiB decoded, just under the limit): light strokes on
    transparent black, the worst case the decoded-size limit lets through (with an EXIF
    orientation other than 1, turned once decoded: a second frame)."""
    alpha = np.asarray(Image.fromarray(digit).resize((2500, 2500), Image.Resampling.NEAREST))
    canvas = Image.new("RGBA", (5000, 5000))
    canvas.paste(Image.merge("RGBA", [Image.fromarray(alpha)] * 4), (1250, 1250))
    if orientation == 1:
        canvas.save(path, compress_level=1)
        return
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = canvas.transpose(STORED_TURNED[orientation])
    stored.save(path, compress_level=1, exif=exif)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bytes(digit: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(digit).save(buffer, "PNG")
    return buffer.getvalue()


def with_png_chunks(digit: np.ndarray, chunks: bytes) -> bytes:
    """A PNG of the digit with `chunks` between its header and its image data."""
    data = png_bytes(digit)
    return data[:33] + chunks + data[33:]  # the signature and IHDR take 33 bytes


def many_scans_jpeg(path: Path, scans: int, side: int = 2048) -> None:
    """A blank progressive JPEG whose last scan (an AC refinement over every block) is repeated
    to make `scans` scans: 16 bytes a scan, each decoded over the whole image."""
    buffer = io.BytesIO()
    Image.new("L", (side, side)).save(buffer, "JPEG", progressive=True, quality=90)
    data = buffer.getvalue()
    last = data[data.rindex(b"\xff\xda") : -2]  # up to the end-of-image marker
    written = data.count(b"\xff\xda")
    path.write_bytes(data[:-2] + last * (scans - written) + b"\xff\xd9")


def big_tag_tiff(path: Path, digit: np.ndarray, size: int) -> None:
    """A 28x28 TIFF carrying a private tag of `size` bytes."""
    from PIL import TiffImagePlugin

    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[65000] = bytes(size)
    tags.tagtype[65000] = 7  # UNDEFINED
    Image.fromarray(digit).save(path, tiffinfo=tags)


def many_strips_tiff(path: Path, strips: int) -> None:
    """A 1-pixel-wide TIFF stored a row a strip: 9 bytes a strip, each a tile to Pillow."""
    header = 8 + 2 + 8 * 12 + 4
    offsets, pixels = header, header + 8 * strips

    def entry(tag: int, kind: int, count: int, value: int) -> bytes:
        return struct.pack("<HHII", tag, kind, count, value)

    directory = [
        *(entry(tag, 4, 1, value) for tag, value in ((256, 1), (257, strips), (278, 1))),
        *(entry(tag, 3, 1, value) for tag, value in ((258, 8), (259, 1), (262, 1))),
        entry(273, 4, strips, offsets),
        entry(279, 4, strips, offsets + 4 * strips),
    ]
    table = b"".join(sorted(directory))
    head = b"II*\x00" + struct.pack("<IH", 8, len(directory)) + table + bytes(4)
    places = np.arange(pixels, pixels + strips, dtype="<u4")
    path.write_bytes(head + places.tobytes() + np.ones(strips, "<u4").tobytes() + bytes(strips))


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


def xmp_rotated_jpeg(path: Path, digit: np.ndarray) -> None:
    """The digit stored turned a quarter anticlockwise, its orientation given only in XMP."""
    turned = Image.fromarray(255 - digit).resize((112, 112)).transpose(Image.Transpose.ROTATE_90)
    turned.save(path, quality=95, xmp=XMP_ROTATED)


def marker_flood(size: int) -> bytes:
    """A 28x28 JPEG whose header is `size` bytes of empty APP1 markers (4 bytes each)."""
    buffer = io.BytesIO()
    Image.new("L", (28, 28)).save(buffer, "JPEG")
    data = buffer.getvalue()
    return data[:2] + b"\xff\xe1\x00\x02" * (size // 4) + data[2:]


def corrupt_exif_jpeg(path: Path, digit: np.ndarray) -> None:
    exif = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x05" + b"\xff" * 40
    Image.fromarray(255 - digit).resize((112, 112)).save(path, quality=90, exif=exif)


def blocky_scans_jpeg(path: Path, digit: np.ndarray, scans: int) -> None:
    """The digit in flat 88-px cells (2464 px square: 94,864 blocks, no AC coefficient), grey
    progressive, its last scan (an AC refinement over every block) repeated to make `scans`."""
    side = IMAGE_SIDE * 88
    big = Image.fromarray(255 - digit).resize((side, side), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", progressive=True, quality=90)
    data = buffer.getvalue()
    last = data[data.rindex(b"\xff\xda") : -2]
    written = data.count(b"\xff\xda")
    path.write_bytes(data[:-2] + last * (scans - written) + b"\xff\xd9")


def dark_on_white(digit: np.ndarray, size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """The digit drawn dark, half the height of a white canvas of `size`, in its centre."""
    width, height = size
    side = height // 2
    canvas = Image.new(mode, size, "white")
    ink = Image.fromarray(255 - digit).resize((side, side)).convert(mode)
    canvas.paste(ink, ((width - side) // 2, (height - side) // 2))
    return canvas


def phone_photo(digit: np.ndarray) -> Image.Image:
    """A 48 MP (8000x6000) photo of the digit written dark on grey paper, with sensor noise."""
    rng = np.random.default_rng(0)
    paper = rng.integers(170, 215, (6000, 8000), dtype=np.uint8)
    ink = np.asarray(Image.fromarray(digit).resize((3000, 3000)), dtype=np.float32) / 255
    region = paper[1500:4500, 2500:5500]
    paper[1500:4500, 2500:5500] = (region * (1 - ink)).astype(np.uint8)
    return Image.fromarray(paper).convert("RGB")


def make_worst_cases(folder: Path, x_test: np.ndarray) -> dict[str, int]:
    """The costliest images of each kind that the limits let through, each a digit to read;
    returns {file name: index of its digit in x_test}."""
    folder.mkdir(parents=True, exist_ok=True)
    blocky_scans_jpeg(folder / "jpeg-168-scans.jpg", x_test[0], 168)  # 15,937,152 blocks
    dark_on_white(x_test[1], (3784, 3784)).save(  # coefficients and frame: 95.6 MiB
        folder / "jpeg-progressive-3784.jpg", progressive=True, subsampling=0, quality=90
    )
    phone_photo(x_test[2]).save(
        folder / "phone-48mp.mpo",
        "MPO",
        save_all=True,
        quality=92,
        append_images=[Image.new("RGB", (1920, 1440))],
    )
    dark_on_white(x_test[3], (2500, 2500)).save(folder / "webp-2500.webp", quality=80)
    dark_on_white(x_test[4], (5000, 5000)).save(
        folder / "tiff-25mp.tif", compression="tiff_adobe_deflate"
    )
    sixteen_bit_giant(folder / "png-49mp-16bit.png", x_test[5])
    rgba_at_the_limit(folder / "png-25mp-rgba-rotated.png", x_test[6], orientation=6)
    return {
        "jpeg-168-scans.jpg": 0,
        "jpeg-progressive-3784.jpg": 1,
        "phone-48mp.mpo": 2,
        "webp-2500.webp": 3,
        "tiff-25mp.tif": 4,
        "png-49mp-16bit.png": 5,
        "png-25mp-rgba-rotated.png": 6,
    }


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
    # issue 20: costly images refused before decoding, and images read that were not
    many_scans_jpeg(folder / "j-20000-scans.jpg", 20_000)
    expected["j-20000-scans.jpg"] = "JPEG has more than 500 scans"
    Image.new("RGB", (7000, 7000)).save(
        folder / "j-progressive-7000.jpg", progressive=True, subsampling=0, quality=90
    )  # libjpeg holds 294 MB of coefficients whatever the scale it draws at
    expected["j-progressive-7000.jpg"] = "refusing to decode more than 96 MiB"
    Image.new("CMYK", (6000, 8000)).save(folder / "j-progressive-cmyk.jpg", progressive=True)
    expected["j-progressive-cmyk.jpg"] = "refusing to decode more than 96 MiB"
    bad("j-marker-flood.jpg", marker_flood(31 * MiB), "more than 100,000 reads")
    Image.new("RGB", (5000, 5000), "white").save(folder / "k-5000-blank.webp", quality=80)
    expected["k-5000-blank.webp"] = "refusing to decode more than 96 MiB"
    body = bytes(33 * MiB)
    bad("l-33mib-chunk.png", with_png_chunks(x_test[0], png_chunk(b"prIv", body)), "32 MiB")
    big_tag_tiff(folder / "l-33mib-tag.tif", x_test[0], 33 * MiB)
    expected["l-33mib-tag.tif"] = "refusing to read more than 32 MiB"
    flood = png_chunk(b"prIv", b"") * (31 * MiB // 12)
    bad("l-chunk-flood.png", with_png_chunks(x_test[0], flood), "more than 100,000 reads")
    exif = b"MM\x00\x2a\x00\x00\x00\x08\x00\x00" + bytes(2 * MiB)
    bad("l-2mib-exif.png", with_png_chunks(x_test[0], png_chunk(b"eXIf", exif)), "EXIF block")
    many_strips_tiff(folder / "l-2m-strips.tif", 2_000_000)
    expected["l-2m-strips.tif"] = "TIFF tag 273 holds 2,000,000 values"
    crowded_npz(folder / "m-million-members.npz", x_test[:10], 1_000_000)
    expected["m-million-members.npz"] = "lists 1,000,000 members"
    float_tiff(folder / "n-infinity.tif", x_test[3], np.inf)
    expected["n-infinity.tif"] = "contains NaN or infinite values"
    float_tiff(folder / "n-nan.tif", x_test[3], np.nan)
    expected["n-nan.tif"] = "contains NaN or infinite values"
    lab_tiff(folder / "n-lab.tif", x_test[4])
    expected["n-lab.tif"] = None
    xmp_rotated_jpeg(folder / "n-xmp-rotated.jpg", x_test[7])
    expected["n-xmp-rotated.jpg"] = None
    good("z-last-good.png", x_test[7])
    return dict(sorted(expected.items()))  # the order predict reads a folder in


if __name__ == "__main__":
    from mnist_edge.core.mnist import load_mnist

    made = make_hostile(Path(sys.argv[1]), load_mnist().x_test)
    print(f"{len(made)} records expected, {sum(e is not None for e in made.values())} errors")
