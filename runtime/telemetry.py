"""onnxruntime's telemetry, off in every process of the project.

onnxruntime's Linux build (1.32) records usage: on its first import it writes a device id
and an event queue under $HOME/.cache/Microsoft/DeveloperTools/.onnxruntime/ (creating $HOME
if it is missing) and, where the home cannot be written, warns in colour on stderr. A tool
for devices writes only what it was asked to write. The documented opt-out, the environment
variable ORT_DISABLE_TELEMETRY=1, is read once, when the library loads: set after the import,
or replaced by `disable_telemetry_events()`, it leaves the files (measured with 1.32). So it
is set here, before anything of the project imports onnxruntime: runtime/predictor.py's
open_session (every session of the runtime, the service and the Ray workers) and export/'s
package calls `telemetry_off()` first.
"""

import os
import sys

SWITCH = "ORT_DISABLE_TELEMETRY"


def telemetry_off() -> None:
    """onnxruntime's telemetry off for this process and those it starts (a value the user set
    is kept). Call it before importing onnxruntime."""
    if os.environ.setdefault(SWITCH, "1") == "1" and "onnxruntime" in sys.modules:
        sys.modules["onnxruntime"].disable_telemetry_events()  # imported first elsewhere:
        # too late for the files, but its events stop
