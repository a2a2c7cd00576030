"""Opening images: what decoding will cost is known before it starts, for paths, streams and
bytes alike; images that were refused or misread before are read."""

import io
import struct

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from mnist_edge.core.errors import InputError
from mnist_edge.runtime.decode import read_image
from mnist_edge.runtime.images import open_image
from mnist_edge.runtime.jpeg import scan_count
from tests.hostile import (
    XMP_ROTATED,
    many_scans_jpeg,
    many_strips_tiff,
    phone_photo,
    png_chunk,
    with_png_chunks,
)

MiB = 2**20
BLOCK = 8  # JPEG codes 8x8 blocks


def jpeg(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


@pytest.mark.parametrize("given_as", ["path", "bytes", "stream"])
def test_a_file_over_32_mib_is_refused_from_its_size_alone(tmp_path, x_test, given_as):
    """33 MiB of PNG (a digit and an ancillary chunk): refused without being parsed, which a
    sparse file of zeros proves for paths (parsed, it would be "not an image")."""
    data = with_png_chunks(x_test[0], png_chunk(b"prIv", bytes(33 * MiB)))
    path = tmp_path / "big.png"
    if given_as == "path":
        with open(path, "wb") as sparse:
            sparse.truncate(len(data))
    source = {"path": path, "bytes": data, "stream": io.BytesIO(data)}[given_as]
    with pytest.raises(InputError, match="file is 33.0 MiB; refusing to read more than 32 MiB"):
        open_image(source)


@pytest.mark.parametrize(
    ("options", "scans"),
    [({}, 1), ({"progressive": True}, 10), ({"progressive": True, "restart_marker_rows": 1}, 10)],
)
def test_scans_are_counted_as_libjpeg_writes_them(options, scans):
    """libjpeg writes 1 scan (baseline) or 10 (its progressive script for colour); restart
    markers inside a scan are not scans."""
    data = jpeg(Image.new("RGB", (64, 64), "red"), **options)
    assert scan_count(io.BytesIO(data)) == scans


def test_a_thumbnail_inside_a_marker_is_not_a_scan():
    """A JPEG carried inside an APP1 marker (as an EXIF thumbnail is) has its own start of
    scan; counting bytes would see two scans, walking the markers sees one."""
    thumbnail = jpeg(Image.new("L", (16, 16)))
    data = jpeg(Image.new("L", (64, 64)))
    app1 = b"\xff\xe1" + struct.pack(">H", len(thumbnail) + 2) + thumbnail
    with_thumbnail = data[:2] + app1 + data[2:]
    assert with_thumbnail.count(b"\xff\xda") == 2
    assert scan_count(io.BytesIO(with_thumbnail)) == 1


def test_scans_over_every_block_are_bounded_by_their_work(tmp_path):
    """400 scans (under the 500-scan limit) of a 4096x4096 grey JPEG: 400 x 512 x 512 block
    decodes, refused before libjpeg spends the ~6 s they take."""
    path = tmp_path / "work.jpg"
    many_scans_jpeg(path, 400, side=4096)
    work = 400 * (4096 // BLOCK) ** 2
    with pytest.raises(InputError, match=f"{work / 1e6:.0f} million block decodes"):
        open_image(path)


def test_a_progressive_jpeg_counts_its_coefficients_a_baseline_one_does_not():
    """The same 6000x6000 4:2:0 picture: baseline, it is decoded at 1/4 scale in 9 MB;
    progressive, libjpeg also holds 6000 x 6000 x 1.5 samples of 16-bit coefficients."""
    picture = Image.new("RGB", (6000, 6000), "white")
    baseline = open_image(jpeg(picture, quality=90))
    assert baseline.size == (1500, 1500)
    coefficients = 6000 * 6000 * 3 // 2 * 2
    with pytest.raises(InputError, match="libjpeg's coefficients") as refused:
        open_image(jpeg(picture, quality=90, progressive=True))
    decoded_mib = (coefficients + 1500 * 1500 * 4) / MiB
    assert f"({decoded_mib:.0f} MiB decoded" in str(refused.value)


def test_a_phone_mpo_is_decoded_at_reduced_scale_like_a_jpeg(mnist, predictor):
    """A 48 MP MPO (the format many phones write) was refused at 183 MiB decoded; decoded at
    1/4 scale like any JPEG, it is 2000x1500 and its digit is read."""
    buffer = io.BytesIO()
    photo = phone_photo(mnist.x_test[2])
    photo.save(buffer, "MPO", save_all=True, append_images=[photo.resize((800, 600))])
    picture, digit = read_image(buffer.getvalue())
    assert picture.format == "MPO" and picture.size == (2000, 1500)
    assert predictor.predict(digit[np.newaxis]).argmax() == mnist.y_test[2]


def test_orientation_given_only_in_xmp_is_applied(x_test):
    """The digit stored turned a quarter anticlockwise in a PNG whose only orientation is in
    its XMP packet: it comes out upright."""
    upright = Image.fromarray(x_test[7]).resize((56, 28))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    metadata = PngImagePlugin.PngInfo()
    metadata.add_itxt("XML:com.adobe.xmp", XMP_ROTATED.decode())
    buffer = io.BytesIO()
    stored.save(buffer, "PNG", pnginfo=metadata)
    assert np.array_equal(np.asarray(open_image(buffer.getvalue())), np.asarray(upright))


def test_a_gif_comment_of_tiny_blocks_is_refused_by_the_read_budget():
    """60,000 one-byte comment blocks (two reads each): refused after 100,000 reads."""
    buffer = io.BytesIO()
    Image.new("L", (28, 28)).save(buffer, "GIF")
    data = buffer.getvalue()
    image_start = data.index(b"\x2c")
    comment = b"\x21\xfe" + b"\x01x" * 60_000 + b"\x00"
    with pytest.raises(InputError, match="more than 100,000 reads"):
        open_image(data[:image_start] + comment + data[image_start:])


def test_a_bigtiff_strip_flood_is_refused_before_pillow_opens_it():
    """A BigTIFF of 100,000 one-row strips: 100,000 offsets that Pillow would make objects of."""
    strips = 100_000
    entries = [(256, 16, 1, 1), (257, 16, 1, strips), (258, 3, 1, 8), (259, 3, 1, 1)]
    entries += [(262, 3, 1, 1), (273, 16, strips, 0), (278, 16, 1, 1), (279, 16, strips, 0)]
    directory = struct.pack("<Q", len(entries)) + b"".join(
        struct.pack("<HHQQ", *entry) for entry in entries
    )
    data = b"II+\x00\x08\x00\x00\x00" + struct.pack("<Q", 16) + directory + bytes(8)
    with pytest.raises(InputError, match="TIFF tag 273 holds 100,000 values"):
        open_image(data + bytes(16 * strips))


def test_the_most_strips_allowed_fit_the_read_budget(tmp_path):
    """65,536 one-row strips (one read each): the TIFF limit and the read budget agree."""
    path = tmp_path / "strips.tif"
    many_strips_tiff(path, 65_536)
    assert open_image(path).size == (1, 65_536)
