"""IDX reading: raw and gzip, and every way a header can lie."""

import gzip
import struct

import numpy as np
import pytest

from mnist_edge.core.errors import InputError
from mnist_edge.core.idx import read_idx, write_idx


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_round_trip(tmp_path, x_test, name):
    path = tmp_path / name
    write_idx(path, x_test[:100])
    assert np.array_equal(read_idx(path), x_test[:100])


def test_bad_magic_number(tmp_path):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x08\x03" + bytes(100))
    with pytest.raises(InputError, match="bad magic number 0x12340803"):
        read_idx(path)


def test_unsupported_type(tmp_path):
    path = tmp_path / "float-idx1"
    path.write_bytes(struct.pack(">BBBBi", 0, 0, 0x0D, 1, 2) + bytes(8))
    with pytest.raises(InputError, match="type 0x0d is not supported"):
        read_idx(path)


@pytest.mark.parametrize("extra", [-784, 5])
@pytest.mark.parametrize("compressed", [False, True])
def test_count_does_not_match_size(tmp_path, x_test, extra, compressed):
    header = struct.pack(">BBBB3i", 0, 0, 8, 3, 10, 28, 28)
    data = x_test[:10].tobytes()
    payload = header + (data[:extra] if extra < 0 else data + bytes(extra))
    path = tmp_path / ("t-idx3-ubyte.gz" if compressed else "t-idx3-ubyte")
    path.write_bytes(gzip.compress(payload) if compressed else payload)
    with pytest.raises(InputError, match="header says 10x28x28"):
        read_idx(path)


def test_too_short_for_header(tmp_path):
    path = tmp_path / "empty-idx3-ubyte"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(InputError, match="too short"):
        read_idx(path)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "t-idx3-ubyte.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="not a readable IDX file"):
        read_idx(path)
