"""Compile and run the generated C: on the host (gcc, clang), and for two Cortex-M boards that
qemu-system-arm emulates (Debian's gcc-arm-none-eabi, newlib's semihosting).

Every command is a list; a failing one raises ToolError with its output's last lines.
"""

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
HOST_COMPILERS = ("gcc", "clang")
CROSS = "arm-none-eabi-gcc"
CROSS_FLAGS = [*WARNINGS, "-O2", "-ffunction-sections", "-fdata-sections"]
# newlib-nano's stdio and semihosting (files and exit code through the debugger interface)
CROSS_LINK = ["--specs=nano.specs", "--specs=rdimon.specs", "-nostartfiles", "-Wl,--gc-sections"]
EXAMPLE = ["main.c", "board_cortexm.c", "startup.c"]
QEMU_TIMEOUT_S = 240
TOOLS = {
    "gcc": "gcc",
    "clang": "clang",
    CROSS: "gcc-arm-none-eabi libnewlib-arm-none-eabi",
    "qemu-system-arm": "qemu-system-arm",
}


class ToolError(RuntimeError):
    """A compiler or emulator failed."""


@dataclass(frozen=True)
class Board:
    machine: str  # qemu's -M
    cpu: str
    flags: tuple[str, ...]  # gcc's CPU and float ABI flags
    linker_script: str
    flash_bytes: int
    ram_bytes: int


M4 = Board(
    "mps2-an386", "cortex-m4",
    ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
    "mps2-an386.ld", 4 << 20, 4 << 20,
)  # fmt: skip
M3 = Board(
    "stm32vldiscovery", "cortex-m3", ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"),
    "stm32vldiscovery.ld", 128 << 10, 8 << 10,
)  # fmt: skip


def missing_tools() -> list[str]:
    """The Debian packages to install for the tools that are not on PATH."""
    return [package for tool, package in TOOLS.items() if shutil.which(tool) is None]


def run(command: list[str], cwd: Path | None = None, timeout: float | None = None) -> str:
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"{command[0]} did not finish in {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-12:])
        raise ToolError(f"{' '.join(command[:3])} ... exited {done.returncode}:\n{tail}")
    return done.stdout


def check_warnings(folder: Path) -> None:
    """The generated C compiles with no warning on gcc and clang (-pedantic too)."""
    for compiler in HOST_COMPILERS:
        run([compiler, *WARNINGS, "-pedantic", "-O2", "-c", "mnist_model.c", "-o", "/dev/null"],
            cwd=folder)  # fmt: skip


def build_host(folder: Path) -> Path:
    """The example for the host with gcc -O2: folder/host."""
    sources = [str(HERE / "main.c"), str(HERE / "board_host.c"), "mnist_model.c"]
    run(["gcc", *WARNINGS, "-O2", f"-I{HERE}", "-I.", *sources, "-o", "host"], cwd=folder)
    return folder / "host"


def build_board(folder: Path, board: Board) -> Path:
    """The bare-metal example for `board`: folder/<machine>.elf."""
    elf = folder / f"{board.machine}.elf"
    sources = [*(str(HERE / name) for name in EXAMPLE), "mnist_model.c"]
    run(
        [CROSS, *board.flags, *CROSS_FLAGS, f"-I{HERE}", "-I.", *sources, *CROSS_LINK,
         f"-L{HERE}", "-T", board.linker_script, "-o", elf.name],
        cwd=folder,
    )  # fmt: skip
    return elf


def model_footprint(folder: Path, board: Board) -> dict[str, int]:
    """What mnist_predict alone costs on `board`: the model linked with only what it calls
    (libgcc's routines; no startup, no stdio), as arm-none-eabi-size counts it."""
    run([CROSS, *board.flags, *CROSS_FLAGS, "-c", "mnist_model.c", "-o", "model.o"], cwd=folder)
    probe = f"probe-{board.cpu}.elf"
    run(
        [CROSS, *board.flags, "-nostdlib", "-Wl,--gc-sections", "-Wl,-e,mnist_predict",
         "model.o", "-lgcc", "-o", probe],
        cwd=folder,
    )  # fmt: skip
    return size(folder / probe)


def size(elf: Path) -> dict[str, int]:
    """text (code and constants, in flash), data (flash and RAM), bss (RAM)."""
    output = run(["arm-none-eabi-size", str(elf)])
    text, data, bss = (int(field) for field in output.splitlines()[1].split()[:3])
    return {"text": text, "data": data, "bss": bss}


def run_board(elf: Path, board: Board, folder: Path) -> dict[str, object]:
    """The example under qemu in `folder` (where its files are); its summary line, parsed,
    and its exit code (the verdict: 0 when every image matched)."""
    command = [
        "qemu-system-arm", "-M", board.machine, "-cpu", board.cpu, "-nographic",
        "-monitor", "none", "-serial", "none", "-semihosting-config", "enable=on,target=native",
        "-icount", "shift=0", "-kernel", str(elf),
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=QEMU_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"qemu {board.machine} did not finish in {QEMU_TIMEOUT_S} s") from None
    return {**summary(done.stdout), "exit_code": done.returncode, "output": done.stdout.strip()}


def run_host(executable: Path, folder: Path) -> dict[str, object]:
    done = subprocess.run([str(executable)], cwd=folder, capture_output=True, text=True)
    return {**summary(done.stdout), "exit_code": done.returncode, "output": done.stdout.strip()}


def summary(output: str) -> dict[str, object]:
    """main.c's last line: `model NAME images N differing N ... stack_bytes N`."""
    lines = [line for line in output.splitlines() if line.startswith("model ")]
    if not lines:
        return {}
    words = lines[-1].split()
    figures = {key: int(value) for key, value in zip(words[2::2], words[3::2], strict=False)}
    return {"model": words[1], **figures}


def version(tool: str) -> str:
    first = run([tool, "--version"]).splitlines()[0]
    found = re.search(r"\d+\.\d+(\.\d+)?", first)
    return found.group(0) if found else first
