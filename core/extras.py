"""Optional capabilities behind extras: whether one is installed, and the command that
installs it where this copy of mnist-edge came from (mnist-edge is not on a package index, so
`pip install 'mnist-edge[train]'` would fail: a checkout or a wheel is named instead)."""

import importlib.util
import json
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

DISTRIBUTION = "mnist-edge"
EXTRAS = {  # extra -> the modules it brings that the code imports
    "train": ("tensorflow", "keras", "tf2onnx", "onnx"),
    "serve": ("starlette", "uvicorn", "prometheus_client", "python_multipart"),
    "scale": ("ray", "pyarrow"),
    "mcu": ("onnx",),  # export-c reads the ONNX graph; no TensorFlow
}


class MissingExtra(RuntimeError):
    """An extra that a command needs is not installed (the message says how to install it)."""


def require_extra(extra: str, needed_by: str) -> None:
    """MissingExtra, naming what is missing and the command that installs it, unless every
    module of `extra` can be imported. `needed_by` names what needs it ("'serve'")."""
    missing = [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtra(
            f"{needed_by} needs the {extra} extra ({', '.join(missing)} not installed): "
            f"{install_command(extra)}"
        )


def install_command(extra: str) -> str:
    """`pip install` of `extra` from where this copy was installed: its source checkout
    (editable or not), the wheel file, else the distribution's name (a wheelhouse)."""
    origin = _origin()
    path = _local_path(origin)
    if path is not None and "dir_info" in origin:
        editable = "-e " if origin["dir_info"].get("editable") else ""
        return f"pip install {editable}'{path}[{extra}]'"
    if path is not None and path.is_file():
        return f"pip install '{path}[{extra}]'"
    return f"pip install '{DISTRIBUTION}[{extra}]' (from the checkout or wheelhouse it came from)"


def source_checkout() -> Path | None:
    """The folder this copy was installed from (`pip install .` or `-e .`), when it was."""
    origin = _origin()
    return _local_path(origin) if "dir_info" in origin else None


def _local_path(origin: dict) -> Path | None:
    url = urlparse(origin.get("url", ""))
    return Path(unquote(url.path)) if url.scheme == "file" else None


def _origin() -> dict:
    """The installed distribution's direct_url.json (PEP 610), or {} when it has none."""
    for distribution in metadata.distributions(name=DISTRIBUTION):
        text = distribution.read_text("direct_url.json")
        if text:
            try:
                return json.loads(text)
            except ValueError:
                return {}
    return {}
