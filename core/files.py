"""Opening inputs safely, hashing and writing files: one way to do each, for every layer."""

import errno
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import BinaryIO

from mnist_edge.core.errors import InputError

KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def open_regular(path: Path | str, max_bytes: int | None = None) -> BinaryIO:
    """The file opened for reading, or InputError when it is missing, not a regular file or
    (with `max_bytes`) larger than that (see `regular_descriptor`)."""
    return os.fdopen(regular_descriptor(path, max_bytes)[0], "rb")


def regular_descriptor(path: Path | str, max_bytes: int | None = None) -> tuple[int, int]:
    """`open_regular`'s file descriptor, for the caller to close, and the file's size: half
    the cost of a file object, for a small file read in one call.

    Opened without blocking, then checked: opening a FIFO or a device named `x.png` would
    otherwise wait forever for a writer (and Ctrl-C could not stop the decoding thread).
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise InputError(open_problem(error)) from None
    status = os.fstat(descriptor)
    try:
        if not stat.S_ISREG(status.st_mode):
            kind = KINDS.get(stat.S_IFMT(status.st_mode), "not a file")
            raise InputError(f"not a regular file ({kind})")
        if max_bytes is not None:
            check_file_size(status.st_size, max_bytes)
    except InputError:
        os.close(descriptor)
        raise
    return descriptor, status.st_size


def check_file_size(size: int, max_bytes: int) -> None:
    """InputError when a file (or an upload) of `size` bytes is over `max_bytes`."""
    if size > max_bytes:
        raise InputError(
            f"file is {size / 2**20:,.1f} MiB; refusing to read more than "
            f"{max_bytes / 2**20:.0f} MiB"
        )


def file_status(path: Path | str) -> os.stat_result | None:
    """What `path` names (links followed), or None when nothing is there (a dangling link, a
    file where a folder should be). InputError when the system refuses to look: a name too
    long, a folder on the way that cannot be searched (pathlib's `is_dir()` raises then)."""
    try:
        return os.stat(path)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            return None
        raise InputError(open_problem(error)) from None


def is_folder(path: Path | str) -> bool:
    """Whether `path` names a folder; InputError when the system refuses to look."""
    status = file_status(path)
    return status is not None and stat.S_ISDIR(status.st_mode)


def open_problem(error: OSError) -> str:
    """What an OSError from opening a file means, in a few words."""
    if error.errno == errno.ENOENT:
        return "no such file or directory"
    if error.errno == errno.ENAMETOOLONG:
        return "name too long for the file system"
    if error.errno == errno.EISDIR:
        return "not a regular file (a directory)"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return f"cannot open ({error.strerror or error})"


def sha256_file(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def write_json(path: Path, payload: object) -> Path:
    """Strict JSON (NaN and infinity refused), indented, with a final newline."""
    path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    return path
