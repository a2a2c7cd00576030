"""make test-mcu: the C generated from each shipped model gives onnxruntime's answers, on the
host and on emulated Cortex-M boards, and fits a microcontroller.

Usage: python -m device.mcu.check [--device-images N] [--output build/mcu]

For each of the four shipped models: generate the C (`mnist-edge export-c`), check that it
compiles warning-free with gcc and clang, run it on the host (gcc -O2) on the 10,000 MNIST
test images beside onnxruntime, cross-compile the bare-metal example for a Cortex-M4
(qemu mps2-an386) and run it on the first N images against the host's outputs, and measure
flash, RAM, stack and instructions per image. The int8 CNN also runs on a Cortex-M3 without
an FPU (stm32vldiscovery: 128 KB flash, 8 KB RAM). The figures are printed, written to
figures.json, and held to the issue's targets; the exit code is the verdict (0: all met).
"""

import argparse
import json
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from device.mcu import toolchain
from device.mcu.targets import judge
from mnist_edge.core.contract import IMAGE_SIZE, NUM_CLASSES
from mnist_edge.core.mnist import load_mnist
from mnist_edge.export.c.generate import generate
from mnist_edge.export.c.lower import lower
from mnist_edge.runtime import catalog
from mnist_edge.runtime.predictor import Predictor

DEVICE_IMAGES = 1000
M3_MODELS = ("cnn.int8",)  # the shipped model that fits 128 KB of flash and 8 KB of RAM
TFLM_FIGURES = Path(__file__).resolve().parent / "tflm.json"
IMAGES_FILE, OUTPUT_FILE, EXPECTED_FILE = (
    "mnist_images.bin", "mnist_probabilities.bin", "mnist_expected.bin",
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device-images", type=int, default=DEVICE_IMAGES,
        help=f"images run on each emulated board (default {DEVICE_IMAGES})",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, default=Path("build/mcu"), help="work folder")
    args = parser.parse_args(argv)
    args.output = args.output.resolve()  # the programs run in folders of their own
    missing = toolchain.missing_tools()
    if missing:
        print(f"test-mcu: missing tools; apt-get install {' '.join(missing)}", file=sys.stderr)
        return 1
    started = time.monotonic()
    mnist = load_mnist()
    tflm = json.loads(TFLM_FIGURES.read_text()) if TFLM_FIGURES.exists() else {}
    models = [
        prove(name, mnist, args.output / name, args.device_images) for name in catalog.names()
    ]
    figures = {
        "device_images": args.device_images,
        "tools": {
            "onnxruntime": metadata.version("onnxruntime"),
            **{tool: toolchain.version(tool) for tool in toolchain.TOOLS},
        },
        "models": models,
    }
    verdicts = judge(figures, tflm)
    figures["tflm"] = tflm
    figures["verdicts"] = verdicts
    figures["seconds"] = round(time.monotonic() - started, 1)
    (args.output / "figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    print_report(figures)
    print(f"wrote {args.output / 'figures.json'} ({figures['seconds']:.0f} s)")
    return 0 if all(v["passed"] for v in verdicts) else 1


def prove(name: str, mnist, folder: Path, device_images: int) -> dict[str, object]:
    """Every figure of one shipped model."""
    path = catalog.shipped_path(name)
    generated = generate(path, folder)
    toolchain.check_warnings(folder)
    host = host_parity(path, folder, mnist)
    figures = {
        "name": name, "file": path.name, "int8": generated.int8,
        "weight_bytes": generated.weight_bytes, "arena_bytes": generated.arena_bytes,
        "host": host, "boards": {},
    }  # fmt: skip
    boards = [toolchain.M4] + ([toolchain.M3] if name in M3_MODELS else [])
    for board in boards:
        figures["boards"][board.cpu] = on_board(folder, board, device_images)
    return figures


def host_parity(path: Path, folder: Path, mnist) -> dict[str, object]:
    """The host build (gcc -O2) on the 10,000 test images beside onnxruntime."""
    executable = toolchain.build_host(folder)
    mnist.x_test.tofile(folder / IMAGES_FILE)
    (folder / EXPECTED_FILE).unlink(missing_ok=True)
    run = toolchain.run_host(executable, folder)
    if run.get("images") != len(mnist.x_test):
        raise toolchain.ToolError(f"the host build failed: {run['output']}")
    ours = np.fromfile(folder / OUTPUT_FILE, np.float32).reshape(-1, NUM_CLASSES)
    reference = Predictor(path).predict(mnist.x_test)
    difference = np.abs(ours - reference)
    step = output_step(path)
    return {
        "images": len(ours),
        "max_abs_diff": float(difference.max()),
        "differing_images": int((difference.max(axis=1) > 0).sum()),
        "max_steps": None if step is None else int(np.rint(difference / step).max()),
        "same_digit": int((ours.argmax(1) == reference.argmax(1)).sum()),
        "accuracy": float((ours.argmax(1) == mnist.y_test).mean()),
        "onnxruntime_accuracy": float((reference.argmax(1) == mnist.y_test).mean()),
    }


def output_step(path: Path) -> float | None:
    """One quantization step of an int8 model's probabilities (None for a float model)."""
    model = lower(path)
    return model.layers[-1].source.scale if model.int8 else None


def on_board(folder: Path, board: toolchain.Board, images: int) -> dict[str, object]:
    """The bare-metal example on `board` under qemu: the first `images` images, compared
    with the host build's probabilities for them, bit for bit."""
    elf = toolchain.build_board(folder, board)
    run_folder = folder / board.machine
    run_folder.mkdir(exist_ok=True)
    image_bytes, probability_bytes = IMAGE_SIZE * IMAGE_SIZE, NUM_CLASSES * 4
    with open(folder / IMAGES_FILE, "rb") as source:
        (run_folder / IMAGES_FILE).write_bytes(source.read(images * image_bytes))
    with open(folder / OUTPUT_FILE, "rb") as source:
        (run_folder / EXPECTED_FILE).write_bytes(source.read(images * probability_bytes))
    started = time.monotonic()
    run = toolchain.run_board(elf, board, run_folder)
    footprint = toolchain.model_footprint(folder, board)
    stack = int(run.get("stack_bytes", 0))
    return {
        "machine": board.machine,
        "images": run.get("images", 0),
        "differing": run.get("differing"),
        "exit_code": run["exit_code"],
        "instructions_per_image": run.get("instructions_per_image"),
        "stack_bytes": stack,
        "model_text": footprint["text"],
        "model_data": footprint["data"],
        "model_bss": footprint["bss"],
        "flash_bytes": footprint["text"] + footprint["data"],
        "ram_bytes": footprint["data"] + footprint["bss"] + stack,
        "example": toolchain.size(elf),
        "seconds": round(time.monotonic() - started, 1),
        "output": run["output"],
    }


def print_report(figures: dict) -> None:
    print(
        f"{'model':<10}{'host parity (10,000 images)':<44}{'accuracy':>9}  {'board':<11}"
        f"{'same as host':>14}{'flash':>9}{'RAM':>8}{'stack':>7}{'instr/image':>13}"
    )
    for model in figures["models"]:
        host = model["host"]
        if model["int8"]:
            parity = f"{host['differing_images']} differ, max {host['max_steps']} step(s)"
        else:
            parity = f"max |diff| {host['max_abs_diff']:.1e}"
        parity += f", same digit {host['same_digit']:,}"
        for number, (cpu, board) in enumerate(model["boards"].items()):
            head = (
                f"{model['name']:<10}{parity:<44}{host['accuracy']:>9.2%}  "
                if number == 0
                else " " * 65
            )
            same = f"{board['images'] - (board['differing'] or 0):,}/{board['images']:,}"
            print(
                f"{head}{cpu:<11}{same:>14}{board['flash_bytes']:>9,}{board['ram_bytes']:>8,}"
                f"{board['stack_bytes']:>7,}{board['instructions_per_image']:>13,}"
            )
    for verdict in figures["verdicts"]:
        print(
            f"  {'pass' if verdict['passed'] else 'FAIL'}  {verdict['target']}: {verdict['detail']}"
        )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except toolchain.ToolError as error:
        print(f"test-mcu: {error}", file=sys.stderr)
        sys.exit(1)
