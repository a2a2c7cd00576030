"""`make figures`: the documentation's figures that need no benchmark run, regenerated.

Each lives in a marked section of its page (see harness/sections.py), so that what the pages show
is what the code does today: the samples' output in README.md, the wild-digit figures in
docs/preprocessing.md, and the export's parity report in docs/training.md (when `make
model` has left build/model/parity.json).
Usage: python -m benchmarks.doc_figures [--root DIR]   (DIR: a checkout; default this one)
"""

import argparse
import subprocess
import sys
from pathlib import Path

from harness.sections import write_section
from harness.wild_digits import COUNT, wild_score
from mnist_edge.cli.export import parity_table
from mnist_edge.core.mnist import load_mnist
from mnist_edge.export.summary import read_summary
from mnist_edge.runtime import Predictor
from mnist_edge.runtime.catalog import TUTORIAL

PROJECT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("mnist-edge"))
PARITY = PROJECT / "build" / "model" / "parity.json"


def command_output(*args: str) -> str:
    """What a user sees in a terminal for `mnist-edge ARGS` (stdout, then stderr)."""
    result = subprocess.run([CLI, *args], capture_output=True, text=True, cwd=PROJECT)
    return result.stdout + result.stderr


def samples_block() -> str:
    samples = sorted(str(path.relative_to(PROJECT)) for path in (PROJECT / "samples").iterdir())
    shown = command_output("predict", *samples).rstrip()
    return f"```console\n$ mnist-edge predict samples/*\n{shown}\n```"


def wild_block() -> str:
    mnist = load_mnist()
    score = wild_score(Predictor(TUTORIAL), mnist.x_test, mnist.y_test)
    kinds = ", ".join(f"{kind} {accuracy:.1%}" for kind, accuracy in score.by_kind.items())
    return (
        f"Measured on {COUNT:,} MNIST test digits re-drawn larger, off-centre, in either "
        "polarity, on grey noisy paper, as grey PNG, colour PNG, transparent canvas export, "
        "light digit cut out of black (RGBA and palette) and JPEG (`harness/wild_digits.py`, "
        "fixed seed), by the tutorial's model: "
        f"**{score.accuracy:.1%}** read right with this preprocessing, against "
        f"{score.mnist_form:.1%} for the same digits in MNIST form, and "
        f"**{score.plain_resize:.1%}** with a plain resize to 28x28. By kind: {kinds}."
    )


def parity_block() -> str | None:
    if not PARITY.exists():
        return None
    return f"```\n{parity_table(read_summary(PARITY))}\n```"


BLOCKS = {  # section -> (its page, what makes it)
    "samples": ("README.md", samples_block),
    "wild-digits": ("docs/preprocessing.md", wild_block),
    "parity": ("docs/training.md", parity_block),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=PROJECT, help="the pages' checkout")
    root = parser.parse_args().root
    for name, (page, make) in BLOCKS.items():
        print(f"{name} -> {page} ...", file=sys.stderr, flush=True)
        text = make()
        if text is None:
            print(f"  {name}: kept (run `make model` first to regenerate it)", file=sys.stderr)
            continue
        write_section(root / page, name, text)


if __name__ == "__main__":
    main()
