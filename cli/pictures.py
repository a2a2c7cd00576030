"""Writing the pictures that `show` and `evaluate --plot` draw."""

from pathlib import Path
from typing import TYPE_CHECKING

from mnist_edge.cli.console import fail

if TYPE_CHECKING:
    from PIL.Image import Image


def save_picture(picture: "Image", path: Path) -> None:
    """Write a PNG (its folder made if missing), or one line and exit 1 when it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        picture.save(path, format="PNG")
    except OSError as error:
        fail(f"cannot write {path} ({error.strerror or error})")
