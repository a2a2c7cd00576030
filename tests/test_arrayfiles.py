"""Array files: every header checked against what the file holds, data read in blocks."""

import gzip
import io
import struct
import zipfile

import numpy as np
import pytest

from mnist_edge.core.arrayfiles import (
    npz_names,
    open_idx,
    open_npy,
    open_npz,
    open_npz_member,
    write_idx,
)
from mnist_edge.core.errors import InputError
from mnist_edge.core.limits import MAX_ARRAY_IMAGES
from mnist_edge.runtime.array_inputs import read_array_file
from mnist_edge.runtime.sources import ArrayFile
from tests.hostile import crowded_npz


def npy_header(shape: tuple[int, ...], dtype: str = "|u1") -> bytes:
    """A version 1.0 .npy header declaring `shape`, written by hand (no data behind it)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return b"\x93NUMPY\x01\x00" + header.getvalue()[8:]


def lying_npz(path, member: str, payload: bytes) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, payload)


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_idx_round_trip(tmp_path, x_test, name):
    path = tmp_path / name
    write_idx(path, x_test[:100])
    assert np.array_equal(open_idx(path).read(), x_test[:100])


def test_blocks_cover_the_array_in_order(tmp_path, x_test):
    np.savez_compressed(tmp_path / "d.npz", images=x_test[:2500])
    blocks = list(open_npz_member(tmp_path / "d.npz", "images").blocks(1024))
    assert [len(block) for block in blocks] == [1024, 1024, 452]
    assert np.array_equal(np.concatenate(blocks), x_test[:2500])


def test_npy_round_trip(tmp_path, x_test):
    np.save(tmp_path / "a.npy", x_test[:7])
    stored = open_npy(tmp_path / "a.npy")
    assert stored.shape == (7, 28, 28) and np.array_equal(stored.read(), x_test[:7])


def test_idx_bad_magic_number(tmp_path):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x08\x03" + bytes(100))
    with pytest.raises(InputError, match="bad magic number 0x12340803"):
        open_idx(path)


def test_idx_unsupported_type(tmp_path):
    path = tmp_path / "float-idx1"
    path.write_bytes(struct.pack(">BBBBi", 0, 0, 0x0D, 1, 2) + bytes(8))
    with pytest.raises(InputError, match="type 0x0d is not supported"):
        open_idx(path)


@pytest.mark.parametrize("extra", [-784, 5])
@pytest.mark.parametrize("compressed", [False, True])
def test_idx_count_does_not_match_size(tmp_path, x_test, extra, compressed):
    header = struct.pack(">BBBB3i", 0, 0, 8, 3, 10, 28, 28)
    data = x_test[:10].tobytes()
    payload = header + (data[:extra] if extra < 0 else data + bytes(extra))
    path = tmp_path / ("t-idx3-ubyte.gz" if compressed else "t-idx3-ubyte")
    path.write_bytes(gzip.compress(payload) if compressed else payload)
    with pytest.raises(InputError, match="header says 10x28x28"):
        open_idx(path)


def test_idx_too_short_for_a_header(tmp_path):
    path = tmp_path / "empty-idx3-ubyte"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(InputError, match="too short"):
        open_idx(path)


def test_not_gzip_at_all(tmp_path):
    path = tmp_path / "t-idx3-ubyte.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="cannot read .*gzip"):
        open_idx(path)


def test_idx_declaring_a_billion_images_is_refused_from_its_header(tmp_path):
    path = tmp_path / "huge-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(struct.pack(">BBBB3i", 0, 0, 8, 3, 10**9, 28, 28)))
    assert path.stat().st_size < 100
    with pytest.raises(InputError, match=f"limit is {MAX_ARRAY_IMAGES:,} per file"):
        open_idx(path)


def test_gzip_that_inflates_past_its_header_is_refused(tmp_path):
    """10 images declared, 100,000 images' worth of zeros behind them (a 77 kB file)."""
    path = tmp_path / "bomb-idx3-ubyte.gz"
    header = struct.pack(">BBBB3i", 0, 0, 8, 3, 10, 28, 28)
    with gzip.open(path, "wb") as stream:
        stream.write(header)
        for _ in range(100):
            stream.write(bytes(1000 * 784))
    with pytest.raises(InputError, match="the file holds more than that"):
        open_idx(path)


def test_npz_member_declaring_78_gb_is_refused(tmp_path):
    path = tmp_path / "liar.npz"
    lying_npz(path, "x_test.npy", npy_header((100_000_000, 28, 28)))
    assert path.stat().st_size < 1000
    with pytest.raises(InputError, match="header declares 100,000,000 images"):
        open_npz_member(path, "x_test")


def test_npz_member_holding_less_than_declared(tmp_path, x_test):
    path = tmp_path / "short.npz"
    lying_npz(path, "images.npy", npy_header((10, 28, 28)) + x_test[:3].tobytes())
    with pytest.raises(InputError, match=r"header says 10x28x28 uint8 \(7,840 bytes of data\)"):
        open_npz_member(path, "images")


@pytest.mark.parametrize("content", [b"", b"hello, not a zip", bytes(1000)])
def test_not_a_zip_archive(tmp_path, content):
    path = tmp_path / "fake.npz"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a readable zip archive"):
        npz_names(path)


def test_truncated_npz(tmp_path, x_test):
    path = tmp_path / "cut.npz"
    np.savez_compressed(path, images=x_test[:500])
    path.write_bytes(path.read_bytes()[:20_000])
    with pytest.raises(InputError):
        open_npz_member(path, "images")


def test_corrupt_deflate_stream_is_caught_before_any_image(tmp_path, x_test):
    path = tmp_path / "flipped.npz"
    np.savez_compressed(path, images=x_test[:500])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(InputError):
        open_npz_member(path, "images")


def test_pickled_npy_is_refused_from_its_header(tmp_path):
    path = tmp_path / "pickled.npy"
    np.save(path, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="pickled Python objects; refused"):
        open_npy(path)


def test_text_named_npy(tmp_path):
    path = tmp_path / "notes.npy"
    path.write_text("just text")
    with pytest.raises(InputError, match="not an .npy array"):
        open_npy(path)


def test_fortran_ordered_array_is_refused(tmp_path, x_test):
    np.save(tmp_path / "f.npy", np.asfortranarray(x_test[:2]))
    with pytest.raises(InputError, match="Fortran-ordered"):
        open_npy(tmp_path / "f.npy")


def test_an_npz_directory_is_parsed_once_however_many_arrays_are_read(
    tmp_path, x_test, monkeypatch
):
    """Images and labels: headers, checks and blocks open the archive seven times; zipfile
    parses its directory once (it did at every open: a million members took 17 s)."""
    path = tmp_path / "pair.npz"
    np.savez(path, x_test=x_test[:100], y_test=np.arange(100, dtype=np.uint8) % 10)
    parses = []
    parse = zipfile.ZipFile._RealGetContents
    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", lambda z: parses.append(parse(z)))
    images = read_array_file(ArrayFile(path, labelled=True))
    assert np.array_equal(np.concatenate(list(images.blocks(64))), x_test[:100])
    assert len(parses) == 1


@pytest.mark.parametrize(("members", "readable"), [(1_000, True), (1_001, False)])
def test_npz_members_are_counted_from_the_end_record(tmp_path, x_test, members, readable):
    path = tmp_path / "crowded.npz"
    crowded_npz(path, x_test[:5], members)
    if readable:
        assert np.array_equal(open_npz(path).array("x_test").read(), x_test[:5])
    else:
        with pytest.raises(InputError, match=f"lists {members:,} members in 0.0 MiB"):
            open_npz(path)


@pytest.mark.parametrize(
    ("members", "message"),
    [(30_000, r"lists 2 members in 1.3 MiB of directory"), (5_000, "lists 5,000 members;")],
)
def test_an_end_record_that_understates_the_directory(tmp_path, x_test, members, message):
    """The end record says 2 members: a directory over 1 MiB is refused from its size before
    it is parsed; a smaller one is parsed, and its real count refused."""
    path = tmp_path / "liar.npz"
    crowded_npz(path, x_test[:5], members, declared=2)
    with pytest.raises(InputError, match=message):
        open_npz(path)
