"""The machine a figure was measured on: CPU model, cores, the vector instruction sets that
matter for inference."""

import os
import platform
from pathlib import Path


def machine() -> dict[str, object]:
    """CPU model, core count and the vector instruction sets that matter for inference."""
    model, flags = platform.processor() or platform.machine(), []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "neon")
                flags = [flag for flag in line.split(":", 1)[1].split() if flag in wanted]
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "flags": flags}
