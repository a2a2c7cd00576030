"""One input to MNIST-format pixels: the single path every command and engine goes through.

An image file (or its bytes, as uploaded) is opened, decoded and preprocessed; an array file
yields one item per image (runtime/array_inputs.py). Whatever goes wrong becomes that
input's error, in one line: one odd file never stops the others.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from mnist_edge.core.errors import InputError
from mnist_edge.core.text import one_line, printable
from mnist_edge.runtime.array_inputs import array_items
from mnist_edge.runtime.images import open_image
from mnist_edge.runtime.preprocess import to_mnist
from mnist_edge.runtime.records import Item
from mnist_edge.runtime.sources import ArrayFile, ImageFile, Source

if TYPE_CHECKING:
    from PIL.Image import Image


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


def decode_image(source: ImageFile, name: str | None = None) -> Item:
    """An image file as an item named `name` (default: its path); any failure becomes the
    item's error."""
    shown = image_name(source, name)
    return guarded(shown, source.label, lambda: read_image(source.path)[1])


def image_name(source: ImageFile, name: str | None = None) -> str:
    """The printable name of an image file's item: `name`, by default its path."""
    return printable(str(source.path) if name is None else name)


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


def source_items(source: Source) -> Iterator[Item]:
    """The items of any source, in order (image files decoded here, in this thread)."""
    if isinstance(source, ImageFile):
        yield decode_image(source)
    elif isinstance(source, ArrayFile):
        yield from array_items(source)
    else:
        yield Item(source.source, None, source.error)
