"""The issue's targets for the C models, stated once, and a verdict for each (no asserts: the
check prints every verdict, then its exit code says whether all passed)."""

from mnist_edge.core.files import sha256_file
from mnist_edge.runtime import catalog

FLOAT_MAX_ABS_DIFF = 1e-5  # float models: largest |p_C - p_onnxruntime| on any probability
INT8_MAX_STEPS = 1  # int8 models: quantization steps of the probabilities they may differ by
CODE_BYTES = 8 * 1024  # flash may hold the weights plus this much code and other constants
RAM_SHARE_OF_TFLM = 0.5  # RAM (arena, data, bss, stack) against TFLM's arena, same model


def judge(figures: dict, tflm: dict) -> list[dict[str, object]]:
    """One verdict per target and model: {"target", "passed", "detail"}."""
    verdicts = []
    for model in figures["models"]:
        verdicts += model_verdicts(model, figures["device_images"], tflm.get("models", {}))
    return verdicts


def model_verdicts(model: dict, device_images: int, tflm: dict) -> list[dict[str, object]]:
    name, host = model["name"], model["host"]
    verdicts = [host_parity(name, model["int8"], host)]
    verdicts.append(
        verdict(
            f"{name} accuracy equals onnxruntime's",
            host["accuracy"] == host["onnxruntime_accuracy"],
            f"C {host['accuracy']:.2%}, onnxruntime {host['onnxruntime_accuracy']:.2%}",
        )
    )
    for cpu, board in model["boards"].items():
        same = board["exit_code"] == 0 and board["differing"] == 0
        verdicts.append(
            verdict(
                f"{name} on {cpu} ({board['machine']}) gives the host's outputs",
                same and board["images"] == device_images,
                f"{board['images']:,} images, {board['differing']} differing, "
                f"exit code {board['exit_code']}",
            )
        )
    m4 = model["boards"]["cortex-m4"]
    code = m4["flash_bytes"] - model["weight_bytes"]
    verdicts.append(
        verdict(
            f"{name} flash <= weights + {CODE_BYTES // 1024} KB",
            code <= CODE_BYTES,
            f"{m4['flash_bytes']:,} B = weights {model['weight_bytes']:,} + {code:,}",
        )
    )
    verdicts.append(ram_verdict(name, m4, tflm.get(name)))
    return verdicts


def host_parity(name: str, int8: bool, host: dict) -> dict[str, object]:
    everywhere = host["same_digit"] == host["images"]
    if int8:
        within = host["max_steps"] <= INT8_MAX_STEPS
        detail = (
            f"{host['differing_images']} of {host['images']:,} images differ at all, "
            f"by at most {host['max_steps']} step(s); same digit on {host['same_digit']:,}"
        )
    else:
        within = host["max_abs_diff"] <= FLOAT_MAX_ABS_DIFF
        detail = (
            f"max |p_C - p_ORT| {host['max_abs_diff']:.1e}; same digit on {host['same_digit']:,}"
        )
    return verdict(f"{name} host parity with onnxruntime", everywhere and within, detail)


def ram_verdict(name: str, board: dict, tflm: dict | None) -> dict[str, object]:
    target = f"{name} RAM <= {RAM_SHARE_OF_TFLM:.0%} of TFLM's arena"
    if tflm is None:
        return verdict(target, False, "no TFLM figure for it: run make mcu-tflm")
    if tflm["onnx_sha256"] != sha256_file(catalog.shipped_path(name)):
        return verdict(
            target, False, "the TFLM figure is for another model file: run make mcu-tflm"
        )
    limit = RAM_SHARE_OF_TFLM * tflm["arena_bytes"]
    return verdict(
        target,
        board["ram_bytes"] <= limit,
        f"{board['ram_bytes']:,} B (stack {board['stack_bytes']}) vs TFLM arena "
        f"{tflm['arena_bytes']:,} B",
    )


def verdict(target: str, passed: bool, detail: str) -> dict[str, object]:
    return {"target": target, "passed": bool(passed), "detail": detail}
