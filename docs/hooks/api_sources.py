"""MkDocs hook: lay out the `mnist_edge` namespace for the API reference (and for the type
checker: `make typecheck` runs this file).

The package's folders (runtime/, core/, ...) install as `mnist_edge.*` through
pyproject.toml's package-dir, so no folder of the checkout is named `mnist_edge` and the
API reader (griffe, for mkdocstrings) cannot find the package from the source. This hook
makes build/api/mnist_edge/ with one symlink per installed package when MkDocs starts,
before mkdocstrings looks for its sources (it drops a search path that does not exist yet);
mkdocs.yml points mkdocstrings at build/api. Reading the source, not importing
the installed package, keeps the build independent of what the environment holds.
"""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API_SOURCES = ROOT / "build" / "api"


def package_folders() -> dict[str, Path]:
    """Each top-level package of the namespace (`runtime`, `core`, ...) -> its folder."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package_dir = pyproject["tool"]["setuptools"]["package-dir"]
    return {
        name.split(".")[1]: ROOT / folder
        for name, folder in package_dir.items()
        if name.count(".") == 1  # runtime.models lies inside runtime/ already
    }


def on_startup(command: str, dirty: bool) -> None:
    lay_out()


def lay_out() -> Path:
    """build/api/mnist_edge/: a symlink per package of the namespace; returns build/api."""
    namespace = API_SOURCES / "mnist_edge"
    namespace.mkdir(parents=True, exist_ok=True)
    for name, folder in package_folders().items():
        link = namespace / name
        if link.is_symlink() and link.resolve() == folder:
            continue
        link.unlink(missing_ok=True)
        link.symlink_to(folder, target_is_directory=True)
    return API_SOURCES


if __name__ == "__main__":
    print(lay_out())
