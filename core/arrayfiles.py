"""Array files read safely: `.npy`, `.npz` and IDX (raw or `.gz`).

Never unpickled. Every header is checked against what the file really holds, and against
the limits, before any data is read; data is then read in blocks of rows, so a small file
that declares (or inflates to) gigabytes costs neither the memory nor the time.
Compressed data (`.npz` members, `.gz`) is inflated once to check its size and checksum,
then again as it is used: a file that lies is refused before it yields a single image.
"""

import contextlib
import gzip
import math
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import numpy as np

from mnist_edge.core.errors import InputError
from mnist_edge.core.files import open_regular
from mnist_edge.core.limits import (
    MAX_ARRAY_BYTES,
    MAX_ARRAY_IMAGES,
    MAX_NPZ_DIRECTORY_BYTES,
    MAX_NPZ_MEMBERS,
)

BLOCK_BYTES = 1 << 20  # compressed data is checked 1 MiB at a time
ZIP_END_MEMBERS, ZIP_END_DIRECTORY_BYTES = 4, 5  # fields of zipfile's end record
IDX_UBYTE = 0x08  # the only IDX type MNIST uses: unsigned bytes
NPY_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}

Opener = Callable[[], contextlib.AbstractContextManager[IO[bytes]]]


@dataclass(frozen=True)
class StoredArray:
    """An array known from its header; `opener` gives a stream at its first value."""

    shape: tuple[int, ...]
    dtype: np.dtype
    opener: Opener

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    def blocks(self, rows: int) -> Iterator[np.ndarray]:
        """Consecutive blocks of at most `rows` rows (along the first axis), in order."""
        count, row_shape = self.shape[0], self.shape[1:]
        row_bytes = math.prod(row_shape) * self.dtype.itemsize
        with _reading(), self.opener() as stream:
            for start in range(0, count, rows):
                size = min(rows, count - start)
                data = _read_exactly(stream, size * row_bytes)
                yield np.frombuffer(data, self.dtype).reshape(size, *row_shape)

    def read(self) -> np.ndarray:
        """The whole array (for arrays known to be small: labels, MNIST itself)."""
        with _reading(), self.opener() as stream:
            return np.frombuffer(_read_exactly(stream, self.nbytes), self.dtype).reshape(self.shape)


def open_npy(path: Path) -> StoredArray:
    with _reading(), open_regular(path) as stream:
        shape, dtype, offset = _npy_header(stream)
        held = stream.seek(0, 2) - offset
    return _checked(StoredArray(shape, dtype, _file_opener(path, offset)), held)


@dataclass(frozen=True)
class Npz:
    """An `.npz` archive whose zip directory was read once: its arrays are opened (three times
    each: header, check, blocks) without parsing the directory again."""

    path: Path
    members: tuple[zipfile.ZipInfo, ...]

    @property
    def names(self) -> list[str]:
        """The arrays it holds, by name (`x_test` for the member `x_test.npy`)."""
        return [member.filename.removesuffix(".npy") for member in self.members]

    def array(self, name: str) -> StoredArray:
        member = f"{name}.npy"
        with _reading(), self._open(member) as stream:
            shape, dtype, offset = _npy_header(stream)
        declared = self._info(member).file_size

        @contextlib.contextmanager
        def opener() -> Iterator[IO[bytes]]:
            with self._open(member) as stream:
                _read_exactly(stream, offset)
                yield stream

        return _verified(_checked(StoredArray(shape, dtype, opener), declared - offset))

    def _info(self, member: str) -> zipfile.ZipInfo:
        """The member of that name (the last one, as zipfile takes it, if it appears twice)."""
        return {info.filename: info for info in self.members}[member]

    @contextlib.contextmanager
    def _open(self, member: str) -> Iterator[IO[bytes]]:
        with open_regular(self.path) as raw, _Archive(raw, self.members) as archive:
            with archive.open(member) as stream:
                yield stream


def open_npz(path: Path) -> Npz:
    """An `.npz` archive, its directory read once; InputError when it is not a zip archive or
    lists more members than any array file needs."""
    with _reading(), open_regular(path) as raw, _Archive(raw) as archive:
        members = tuple(archive.infolist())
    if len(members) > MAX_NPZ_MEMBERS:
        raise InputError(_too_many_members(len(members), None))
    return Npz(path, members)


def npz_names(path: Path) -> list[str]:
    """The arrays an `.npz` holds, by name (`x_test` for the member `x_test.npy`)."""
    return open_npz(path).names


def open_npz_member(path: Path, name: str) -> StoredArray:
    return open_npz(path).array(name)


def open_idx(path: Path) -> StoredArray:
    """An IDX file: two zero bytes, type 0x08, the number of dimensions, each dimension as a
    big-endian int32, then the values in C order; gzip-compressed when named `.gz`."""
    compressed = path.suffix.lower() == ".gz"
    with _reading(), open_regular(path) as raw:
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw)) if compressed else raw
        shape, offset = _idx_header(stream)
        held = None if compressed else raw.seek(0, 2) - offset

    @contextlib.contextmanager
    def opener() -> Iterator[IO[bytes]]:
        with open_regular(path) as raw:
            stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw)) if compressed else raw
            _read_exactly(stream, offset)
            yield stream

    stored = StoredArray(shape, np.dtype(np.uint8), opener)
    return _verified(_checked(stored)) if compressed else _checked(stored, held)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as IDX (gzip-compressed when the name ends in `.gz`)."""
    if array.dtype != np.uint8:
        raise ValueError(f"IDX writing supports uint8 only, got {array.dtype}")
    header = struct.pack(f">BBBB{array.ndim}i", 0, 0, IDX_UBYTE, array.ndim, *array.shape)
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "wb") as stream:
        stream.write(header + np.ascontiguousarray(array).tobytes())


def is_idx_name(name: str) -> bool:
    """Whether a file name follows the IDX conventions (`*-idx3-ubyte`, `*.idx3`, with `.gz`)."""
    name = name.lower().removesuffix(".gz")
    return "-idx" in name or name.endswith((".idx", ".idx1", ".idx3"))


class _Archive(zipfile.ZipFile):
    """A zip archive whose directory is either given (parsed before) or, before zipfile parses
    it, checked from the archive's end record: zipfile reads the whole directory into memory
    and makes an object per member at every open (a million members, 58 MB: 641 MB)."""

    def __init__(self, file: IO[bytes], members: tuple[zipfile.ZipInfo, ...] | None = None):
        self._given = members
        super().__init__(file)

    def _RealGetContents(self) -> None:  # zipfile's own hook for reading the directory
        if self._given is None:
            end = zipfile._EndRecData(self.fp)  # type: ignore[attr-defined]  # (a test guards it)
            _check_directory(end)  # the end record zipfile will use
            super()._RealGetContents()  # type: ignore[misc]
            return
        for member in self._given:
            self.filelist.append(member)
            self.NameToInfo[member.filename] = member


def _check_directory(end_record: list | None) -> None:
    """InputError when a zip's end record declares more members, or a larger directory, than
    an array file needs (None: not a zip archive, which zipfile reports)."""
    if end_record is None:
        return
    members, size = end_record[ZIP_END_MEMBERS], end_record[ZIP_END_DIRECTORY_BYTES]
    if members > MAX_NPZ_MEMBERS or size > MAX_NPZ_DIRECTORY_BYTES:
        raise InputError(_too_many_members(members, size))


def _too_many_members(members: int, size: int | None) -> str:
    taking = "" if size is None else f" in {size / 2**20:,.1f} MiB of directory"
    return (
        f"the zip archive lists {members:,} members{taking}; an array file needs a few "
        f"(refusing more than {MAX_NPZ_MEMBERS:,} members or "
        f"{MAX_NPZ_DIRECTORY_BYTES / 2**20:.0f} MiB of directory)"
    )


def _npy_header(stream: IO[bytes]) -> tuple[tuple[int, ...], np.dtype, int]:
    try:
        version = np.lib.format.read_magic(stream)
    except ValueError:
        raise InputError("not an .npy array (its first bytes are not the .npy magic)") from None
    if version not in NPY_HEADER_READERS:
        raise InputError(f".npy format version {version[0]}.{version[1]} is not supported")
    try:
        shape, fortran_order, dtype = NPY_HEADER_READERS[version](stream)
    except ValueError as error:
        raise InputError(f"not a readable .npy header ({error})") from None
    if dtype.hasobject:
        raise InputError("holds pickled Python objects; refused (arrays are never unpickled)")
    if fortran_order and len(shape) > 1:
        raise InputError("the array is Fortran-ordered; save it C-ordered")
    return tuple(shape), dtype, stream.tell()


def _idx_header(stream: IO[bytes]) -> tuple[tuple[int, ...], int]:
    head = stream.read(4)
    if len(head) < 4:
        raise InputError("not an IDX file (too short for a header)")
    zero1, zero2, type_code, ndim = head
    magic = int.from_bytes(head, "big")
    if zero1 or zero2 or not 1 <= ndim <= 4:
        raise InputError(f"not an IDX file (bad magic number 0x{magic:08x})")
    if type_code != IDX_UBYTE:
        raise InputError(
            f"IDX type 0x{type_code:02x} is not supported (magic 0x{magic:08x}); "
            "only unsigned bytes (0x08), as in MNIST"
        )
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise InputError("truncated IDX header")
    shape = struct.unpack(f">{ndim}i", dims)
    if min(shape) < 0:
        raise InputError(f"IDX header gives a negative dimension {shape}")
    return shape, 4 + 4 * ndim


def _checked(stored: StoredArray, held: int | None = None) -> StoredArray:
    """The array, if its header is within the limits and (when known) matches `held` bytes."""
    count = stored.shape[0] if stored.shape else 1
    if count > MAX_ARRAY_IMAGES:
        raise InputError(
            f"header declares {count:,} images; the limit is {MAX_ARRAY_IMAGES:,} per file"
        )
    if stored.nbytes > MAX_ARRAY_BYTES:
        raise InputError(
            f"header declares {stored.nbytes:,} bytes of data; the limit is "
            f"{MAX_ARRAY_BYTES:,} per array"
        )
    if held is not None and held != stored.nbytes:
        dims = "x".join(str(d) for d in stored.shape) or "a scalar"
        holds = "more than that" if held > stored.nbytes else f"{max(held, 0):,}"
        raise InputError(
            f"header says {dims} {stored.dtype} ({stored.nbytes:,} bytes of data) but the file "
            f"holds {holds}"
        )
    return stored


def _verified(stored: StoredArray) -> StoredArray:
    """Compressed data inflated once (1 MiB at a time) to check its size and checksum."""
    held = 0
    with _reading(), stored.opener() as stream:
        while held <= stored.nbytes and (block := stream.read(BLOCK_BYTES)):
            held += len(block)
    return _checked(stored, held)


def _file_opener(path: Path, offset: int) -> Opener:
    @contextlib.contextmanager
    def opener() -> Iterator[IO[bytes]]:
        with open_regular(path) as stream:
            stream.seek(offset)
            yield stream

    return opener


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise InputError(f"the file ends early ({len(data):,} of {size:,} bytes read)")
    return data


@contextlib.contextmanager
def _reading() -> Iterator[None]:
    """Whatever a reader or decompressor raises becomes one InputError naming the problem."""
    try:
        yield
    except InputError:
        raise
    except zipfile.BadZipFile as error:
        raise InputError(f"not a readable zip archive, as .npz files are ({error})") from None
    except KeyError as error:
        raise InputError(f"no array {error} in the archive") from None
    except (OSError, EOFError) as error:
        problem = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise InputError(f"cannot read ({problem})") from None
    except Exception as error:  # zlib.error, an unsupported compression, RuntimeError
        raise InputError(f"cannot read ({type(error).__name__}: {error})") from None
