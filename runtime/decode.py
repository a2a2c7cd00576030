"""One input to MNIST-format pixels: the single path every command and engine goes through.

An image file is opened, decoded and preprocessed; an array file yields one item per image,
read a block at a time. Whatever goes wrong becomes that input's error, in one line: one
odd file never stops the others.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from mnist_edge.core.errors import InputError
from mnist_edge.core.text import one_line, printable
from mnist_edge.runtime.arrays import checked_pixels
from mnist_edge.runtime.images import open_image
from mnist_edge.runtime.preprocess import BLANK, is_blank, to_mnist
from mnist_edge.runtime.records import Item
from mnist_edge.runtime.sources import ArrayFile, ImageFile, Source, read_array_file

if TYPE_CHECKING:
    from PIL.Image import Image

BLOCK = 1024  # images of an array file checked and converted at a time


def read_image(source: Path | BinaryIO | bytes) -> tuple["Image", np.ndarray]:
    """The decoded picture and the uint8 (28, 28) digit the model receives, or InputError
    (whatever the decoder or preprocessing raised, in one line)."""
    picture = open_image(source)
    try:
        return picture, to_mnist(picture)
    except InputError:
        raise
    except MemoryError:
        raise InputError("not enough memory to preprocess it") from None
    except Exception as error:  # an image mode or shape no one foresaw
        problem = f"{type(error).__name__}: {one_line(str(error))}"
        raise InputError(f"cannot preprocess image ({problem})") from None


def decode_image(source: ImageFile) -> Item:
    """An image file as an item; any failure becomes the item's error."""
    return guarded(printable(str(source.path)), source.label, lambda: read_image(source.path)[1])


def decode_bytes(name: str, data: bytes, label: int | None = None) -> Item:
    """An image file's bytes (an upload, a blob) as an item, exactly as from a file."""
    return guarded(printable(name), label, lambda: read_image(data)[1])


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


def array_items(source: ArrayFile, start: int = 0, stop: int | None = None) -> Iterator[Item]:
    """One item per image of an array file (images start to stop), read a block at a time.

    Blank images get the same "no digit found" as a blank picture; an array that cannot be
    read gives one error item naming the file (and, mid-way, the image it stopped at).
    """
    name = printable(str(source.path))
    try:
        array = read_array_file(source)
    except InputError as error:
        yield Item(name, None, one_line(str(error)))
        return
    stop = array.count if stop is None else min(stop, array.count)
    done = 0
    try:
        for block in array.blocks(BLOCK):
            if done + len(block) > start:
                yield from _block_items(name, block, done, array.labels, start, stop)
            done += len(block)
            if done >= stop:
                return
    except InputError as error:
        yield Item(name, None, f"stopped at image {done:,}: {one_line(str(error))}")


def source_items(source: Source) -> Iterator[Item]:
    """The items of any source, in order (image files decoded here, in this thread)."""
    if isinstance(source, ImageFile):
        yield decode_image(source)
    elif isinstance(source, ArrayFile):
        yield from array_items(source)
    else:
        yield Item(source.source, None, source.error)


def _block_items(
    name: str, block: np.ndarray, offset: int, labels: np.ndarray | None, start: int, stop: int
) -> Iterator[Item]:
    pixels, problems = checked_pixels(block)
    first, last = max(start - offset, 0), min(stop - offset, len(block))
    for index in range(first, last):
        position = offset + index
        label = None if labels is None else int(labels[position])
        problem = problems[index] or (BLANK if is_blank(pixels[index]) else None)
        image = None if problem else pixels[index]
        yield Item(f"{name}#{position}", image, problem, label)
