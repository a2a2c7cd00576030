"""`make bench-instructions`: instructions per batch-1 call at each step of the single-image
path, counted by valgrind's callgrind, a figure that the machine's load cannot move.

The parent makes the graphs (with TensorFlow, as `make bench` does) and runs a child under
callgrind on them. The child times nothing: for each step it makes warm-up calls, then CALLS
calls between two `time.sleep(0)`; callgrind writes a profile part at every entry to
`time.sleep` (--dump-before=time_sleep), so the part that ends at the second sleep holds the
step's CALLS calls and nothing else. Only the calling thread is counted: a thread that
onnxruntime starts on import polls under valgrind (it sleeps when run natively), and would
add instructions by the second; the two steps that run on the thread pool therefore lose
their worker's share of the arithmetic, which makes "before" a lower bound. Valgrind does
not emulate AVX-512, so onnxruntime takes its AVX2 kernels under it, as on a machine without
AVX-512. Instructions are not time (a cache miss costs hundreds of cycles and one
instruction), but they show the overhead each change removed.

Usage: python -m benchmarks.instructions --keras-model build/model/model.keras
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.report import markdown_table
from harness.sections import write_section

CALLS = 1000
WARMUP = 50
MODELS = ("float32", "int8")
LOOP = "the timing loop alone"  # a call that does nothing: what every part also counts
MAIN_THREAD = "01"  # callgrind's number of the thread that makes the calls


def child(folder: Path) -> None:
    """Under callgrind: each step's CALLS calls between two sleeps, steps in STEPS order."""
    from benchmarks.latency import STEPS, path_steps
    from mnist_edge.core.mnist import load_mnist

    image = np.ascontiguousarray(load_mnist().x_test[:1])
    calls = {LOOP: lambda _: None}
    for model in MODELS:
        readable, optimised = ((folder / f"{model}.{kind}.onnx").read_bytes() for kind in "ro")
        steps = path_steps(readable, optimised)
        calls |= {f"{model}: {step}": steps[step] for step in STEPS}
    for predict in calls.values():
        for _ in range(WARMUP):
            predict(image)
        time.sleep(0)  # a profile part ends here ...
        for _ in range(CALLS):
            predict(image)
        time.sleep(0)  # ... and the next one, the step's calls only, here
    print("\n".join(calls))


def count(keras_model: Path) -> dict[str, float]:
    """Instructions per call, by '<model>: <step>' (and LOOP), the loop's own subtracted."""
    from benchmarks.batch_one import graphs
    from mnist_edge.core.mnist import load_mnist
    from mnist_edge.export.run import load_keras

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for model, pair in graphs(load_keras(keras_model), load_mnist().x_train).items():
            for kind, graph in zip("ro", pair, strict=True):
                (folder / f"{model}.{kind}.onnx").write_bytes(graph)
        command = [
            "valgrind",
            "--tool=callgrind",
            "--dump-before=time_sleep",
            "--separate-threads=yes",
            f"--callgrind-out-file={folder / 'parts'}",
            sys.executable,
            "-m",
            "benchmarks.instructions",
            "--child",
            str(folder),
        ]
        names = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        parts = sorted(folder.glob(f"parts.*-{MAIN_THREAD}"), key=_part_number)
        totals = [_total(part) for part in parts]
    calls = [total / CALLS for total in totals[1::2]]  # every second part: a step's calls
    names = names.splitlines()
    if len(calls) < len(names):
        raise RuntimeError("callgrind wrote too few parts: is `time_sleep` a symbol here?")
    loop = calls[0]
    return {name: per_call - loop for name, per_call in zip(names, calls, strict=False)}


def _part_number(path: Path) -> int:
    return int(path.name.split(".")[1].split("-")[0])  # parts.12-01: part 12 of thread 1


def _total(part: Path) -> int:
    match = re.search(r"^(?:totals|summary): (\d+)", part.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"{part}: no instruction total")
    return int(match.group(1))


def table(per_call: dict[str, float]) -> str:
    from benchmarks.latency import BEFORE, STEPS

    rows = []
    for step in STEPS:
        cells = [step]
        for model in MODELS:
            mine, before = per_call[f"{model}: {step}"], per_call[f"{model}: {BEFORE}"]
            cells += [f"{mine / 1000:,.1f}k", f"{mine / before:.2f}"]
        rows.append(cells)
    header = ["change (each adds to the ones above)"]
    for model in MODELS:
        header += [f"{model} instructions a call", f"{model} ÷ before"]
    return markdown_table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keras-model", type=Path, default=Path("build/model/model.keras"))
    parser.add_argument("--output", type=Path, default=Path("docs/performance.md"))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    per_call = count(args.keras_model)
    text = (
        f"Made by `make bench-instructions`: {CALLS:,} calls of each step on one test image "
        "under valgrind's callgrind, the timing loop's own instructions subtracted, the "
        "calling thread only (the thread pool's worker is not counted in the first two "
        "rows); valgrind has no AVX-512, so the kernels are onnxruntime's AVX2 ones. "
        "Independent of the machine's load; not a time.\n\n" + table(per_call)
    )
    write_section(args.output, "instructions", text)
    print(text)


if __name__ == "__main__":
    main()
