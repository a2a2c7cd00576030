"""Inside the emulated arm64: does the CPU refuse the instructions it lacks, as a board does?

Usage (in the root filesystem, with QEMU_CPU set): python3 cpu_check.py

Reads whether the CPU has the int8 dot-product instructions (the kernel's HWCAP_ASIMDDP)
and executes one, `sdot`, in a child process. A Pi 4's Cortex-A72 has none, so the child
must die of "Illegal instruction"; a Pi 5's Cortex-A76 runs it. Exits 1 when the outcome
does not match the CPU's features: then a Pi 4 crash such as onnxruntime 1.21.0's could
pass unnoticed. Standard library only: runs with the root filesystem's own python3.
"""

import ctypes
import mmap
import resource
import signal
import subprocess
import sys

AT_HWCAP = 16
HWCAP_ASIMDDP = 1 << 20  # Armv8.2-A int8 dot product (sdot, udot)
SDOT_AND_RET = bytes.fromhex("2094824ec0035fd6")  # sdot v0.4s, v1.16b, v2.16b; ret


def run_sdot() -> None:
    """Execute one sdot from an executable page (qemu needs no cache maintenance)."""
    protection = mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=protection)
    page.write(SDOT_AND_RET)
    ctypes.CFUNCTYPE(None)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()


def no_core_file() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def has_dotprod() -> bool:
    getauxval = ctypes.CDLL(None).getauxval
    getauxval.restype = ctypes.c_ulong
    return bool(getauxval(AT_HWCAP) & HWCAP_ASIMDDP)


def main() -> None:
    if sys.argv[1:] == ["sdot"]:
        run_sdot()
        return
    child = subprocess.run(
        [sys.executable, __file__, "sdot"], capture_output=True, preexec_fn=no_core_file
    )
    illegal = child.returncode == -signal.SIGILL
    expected = has_dotprod()
    outcome = "ran" if child.returncode == 0 else ("Illegal instruction" if illegal else child)
    print(f"int8 dot product: {'yes' if expected else 'no'}; sdot: {outcome}")
    if (expected and child.returncode != 0) or (not expected and not illegal):
        sys.exit("the emulated CPU does not behave as its features say")


if __name__ == "__main__":
    main()
