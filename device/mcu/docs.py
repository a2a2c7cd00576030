"""Write docs/mcu.md's figures from a run of make test-mcu and the TFLM figures.

Usage: python -m device.mcu.docs docs/mcu.md build/mcu/figures.json device/mcu/tflm.json

Replaces the page's `<!-- section:mcu-figures -->` and `<!-- section:mcu-proof -->` blocks,
so that its numbers are always those of one run.
"""

import json
import sys
from pathlib import Path

from harness.sections import write_section

TFLM_INTERPRETER_CODE = "about 16 KB"  # TFLM's own figure for its interpreter on a Cortex-M3


def kib(size: int) -> str:
    return f"{size / 1024:,.1f} KB"


def figures_table(figures: dict, tflm: dict) -> list[str]:
    rows = [
        "| model | flash: weights + the rest | RAM: arena + stack "
        "| TFLM: `.tflite` file, arena (our RAM's share) "
        "| instructions / image (M4) | MNIST test accuracy |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for model in figures["models"]:
        m4 = model["boards"]["cortex-m4"]
        code = m4["flash_bytes"] - model["weight_bytes"]
        ram = m4["ram_bytes"]
        arena = tflm["models"][model["name"]]["arena_bytes"]
        tflite = kib(tflm["models"][model["name"]]["tflite_bytes"])
        host = model["host"]
        rows.append(
            f"| `{model['name']}` | {kib(model['weight_bytes'])} + {kib(code)} "
            f"| {ram:,} B ({ram - m4['stack_bytes']:,} + {m4['stack_bytes']}) "
            f"| {tflite}, {arena:,} B ({ram / arena:.0%}) "
            f"| {m4['instructions_per_image'] / 1e6:.2f} M "
            f"| {host['accuracy']:.2%} (onnxruntime {host['onnxruntime_accuracy']:.2%}) |"
        )
    return rows


def m3_lines(figures: dict) -> list[str]:
    lines = []
    for model in figures["models"]:
        board = model["boards"].get("cortex-m3")
        if board:
            example = board["example"]
            lines.append(
                f"On the Cortex-M3 without an FPU (`{board['machine']}`: 128 KB flash, 8 KB RAM, "
                f"`-mfloat-abi=soft`), `{model['name']}` takes {kib(board['flash_bytes'])} of "
                f"flash and {board['ram_bytes']:,} B of RAM ({board['stack_bytes']} B of stack), "
                f"{board['instructions_per_image'] / 1e6:.2f} M instructions per image; the whole "
                f"example with newlib's stdio and semihosting: {kib(example['text'])} of flash, "
                f"{example['data'] + example['bss']:,} B of static RAM."
            )
    return lines


def figures_section(figures: dict, tflm: dict) -> str:
    lines = figures_table(figures, tflm)
    lines += [
        "",
        "Flash: `arm-none-eabi-size` of the model linked alone for the Cortex-M4 (text, "
        "constants, data), with the libgcc routines it calls. RAM: its data and bss (the arena) "
        "plus the deepest stack of `mnist_predict`, measured by painting the stack. "
        "Instructions: counted by qemu (`-icount`); cycles on silicon differ (flash wait "
        "states, 1-3 cycles a load or multiply), so take them as a floor. TFLM arena: the "
        f"`tflite-micro` package ({tflm['tflite_micro']}) allocating a `.tflite` of the same "
        "network with the same weights (float32, and full-integer int8 by TensorFlow Lite's "
        "converter); it needs its interpreter as code besides, "
        f"{TFLM_INTERPRETER_CODE} on a Cortex-M3 by its project's own figure, plus its kernels.",
        "",
        *m3_lines(figures),
    ]
    return "\n".join(lines)


def proof_section(figures: dict) -> str:
    rows = [
        "| model | host, 10,000 images (gcc -O2) vs onnxruntime | Cortex-M4 vs host "
        "| Cortex-M3 vs host |",
        "|---|---|---|---|",
    ]
    for model in figures["models"]:
        host = model["host"]
        if model["int8"]:
            host_text = (
                "bit-exact: no image differs"
                if host["differing_images"] == 0
                else f"{host['differing_images']} images differ, by at most "
                f"{host['max_steps']} step(s)"
            )
            host_text += f"; same digit on {host['same_digit']:,}"
        else:
            host_text = (
                f"max \\|p_C - p_ORT\\| {host['max_abs_diff']:.1e}; same digit on "
                f"{host['same_digit']:,}"
            )
        boards = [
            model["boards"].get(cpu)
            for cpu in ("cortex-m4", "cortex-m3")
        ]  # fmt: skip
        cells = [
            "-" if board is None
            else f"{board['images'] - board['differing']:,} of {board['images']:,} identical"
            for board in boards
        ]  # fmt: skip
        rows.append(f"| `{model['name']}` | {host_text} | {cells[0]} | {cells[1]} |")
    tools = ", ".join(f"{tool} {version}" for tool, version in figures["tools"].items())
    passed = sum(v["passed"] for v in figures["verdicts"])
    rows += [
        "",
        f"{passed} of {len(figures['verdicts'])} targets met, in {figures['seconds']:.0f} s "
        f"(`make test-mcu`). Tools: {tools}.",
    ]
    return "\n".join(rows)


def main(page: Path, figures_path: Path, tflm_path: Path) -> None:
    figures = json.loads(figures_path.read_text())
    tflm = json.loads(tflm_path.read_text())
    write_section(page, "mcu-figures", figures_section(figures, tflm))
    write_section(page, "mcu-proof", proof_section(figures))
    print(f"wrote {page}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*map(Path, sys.argv[1:]))
