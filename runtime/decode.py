"""One input to MNIST-format pixels: the single path every command and engine goes through.

An image file (or its bytes, as uploaded) is opened, decoded and preprocessed; an array file
yields one item per image (runtime/array_inputs.py). Whatever goes wrong becomes that
input's error, in one line: one odd file never stops the others.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

import numpy as np

from mnist_edge.core.errors import InputError
from mnist_edge.core.files import regular_descriptor
from mnist_edge.core.limits import MAX_IMAGE_FILE_BYTES
from mnist_edge.core.text import one_line, printable
from mnist_edge.runtime.array_inputs import array_items
from mnist_edge.runtime.images import open_image
from mnist_edge.runtime.png import MAX_BYTES as PNG_BYTES
from mnist_edge.runtime.png import plain_grey
from mnist_edge.runtime.preprocess import mnist_format, to_mnist
from mnist_edge.runtime.records import Item
from mnist_edge.runtime.sources import ArrayFile, ImageFile, Source

if TYPE_CHECKING:
    from PIL.Image import Image


def read_image(source: Path | BinaryIO | bytes) -> tuple["Image", np.ndarray]:
    """The decoded picture and the uint8 (28, 28) digit the model receives, or InputError
    (whatever the decoder or preprocessing raised, in one line)."""
    picture = open_image(source)
    return picture, _preprocessed(to_mnist, picture)


def read_digit(source: Path | str | bytes) -> np.ndarray:
    """The uint8 (28, 28) digit of an image file (or its bytes), or InputError: `read_image`'s,
    through runtime/png.py when the file is a small plain greyscale PNG."""
    if isinstance(source, Path | str):
        return _file_digit(source)
    pixels = plain_grey(source) if isinstance(source, bytes) else None
    if pixels is None:
        return read_image(source)[1]
    return _preprocessed(mnist_format, pixels)


def _file_digit(path: Path | str) -> np.ndarray:
    """`read_digit` of a file: a small one read whole without a file object (which costs more
    than reading a small PNG), any other through one opened over the same descriptor."""
    descriptor, size = regular_descriptor(path, max_bytes=MAX_IMAGE_FILE_BYTES)
    try:
        try:
            pixels = plain_grey(os.read(descriptor, size)) if size <= PNG_BYTES else None
        except OSError:  # a read error: the full path reports it as for any image
            pixels = None
        if pixels is None:
            os.lseek(descriptor, 0, os.SEEK_SET)
            stream, descriptor = os.fdopen(descriptor, "rb"), -1  # the stream closes it
            with stream:
                return read_image(stream)[1]
    finally:
        if descriptor >= 0:
            os.close(descriptor)
    return _preprocessed(mnist_format, pixels)


Picture = TypeVar("Picture")


def _preprocessed(preprocess: Callable[[Picture], np.ndarray], picture: Picture) -> np.ndarray:
    """`preprocess(picture)`, whatever it raises turned into an InputError in one line."""
    try:
        return preprocess(picture)
    except InputError:
        raise
    except MemoryError:
        raise InputError("not enough memory to preprocess it") from None
    except Exception as error:  # an image mode or shape no one foresaw
        problem = f"{type(error).__name__}: {one_line(str(error))}"
        raise InputError(f"cannot preprocess image ({problem})") from None


def decode_image(source: ImageFile, name: str | None = None) -> Item:
    """An image file as an item named `name` (default: its path); any failure becomes the
    item's error."""
    return decode_file(source.path, source.label, name)


def decode_file(path: Path | str, label: int | None = None, name: str | None = None) -> Item:
    """`decode_image` of a file named by a path or a string (a worker process is sent
    strings: making a Path of each costs more than the rest of its bookkeeping)."""
    return guarded(_shown(path, name), label, lambda: read_digit(path))


def image_name(source: ImageFile, name: str | None = None) -> str:
    """The printable name of an image file's item: `name`, by default its path."""
    return _shown(source.path, name)


def _shown(path: Path | str, name: str | None) -> str:
    return printable(str(path) if name is None else name)


def decode_bytes(name: str, data: bytes, label: int | None = None) -> Item:
    """An image file's bytes (an upload, a blob) as an item, exactly as from a file."""
    return guarded(printable(name), label, lambda: read_digit(data))


def guarded(name: str, label: int | None, read: Callable[[], np.ndarray]) -> Item:
    """Item(name, read()), or an error item saying in one line why it could not be read."""
    try:
        return Item(name, read(), label=label)
    except InputError as error:
        return Item(name, None, one_line(str(error)), label)
    except Exception as error:  # never let one odd file stop the batch
        return Item(
            name, None, f"cannot read ({type(error).__name__}: {one_line(str(error))})", label
        )


def source_items(source: Source) -> Iterator[Item]:
    """The items of any source, in order (image files decoded here, in this thread)."""
    if isinstance(source, ImageFile):
        yield decode_image(source)
    elif isinstance(source, ArrayFile):
        yield from array_items(source)
    else:
        yield Item(source.source, None, source.error)
