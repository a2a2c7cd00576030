"""`make wheelhouse`: an offline install bundle of the runtime for one device platform.

Usage: python3 device/wheelhouse.py --platform linux-aarch64 --python 3.11 [--extras serve]

Writes dist/wheelhouse-<platform>-py<version>[-<extras>]/: the project's wheel and every
runtime dependency as a binary wheel for that platform (pip download --only-binary), an
install.sh that makes a virtual environment on the device with no network, and SHA256SUMS.
Standard library only: it runs with any python3 that has pip.
"""

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("install.sh")
SYSTEMD = Path(__file__).with_name("systemd")  # the unattended-run example, shipped alongside
CHECKSUMS = "SHA256SUMS"
PROJECT = "mnist-edge"
GLIBC_FLOOR = 28  # manylinux_2_28: onnxruntime's Linux wheels need glibc 2.28
MACOS_FLOOR = "14_0"  # onnxruntime 1.32's macOS arm64 wheels are tagged macosx_14_0
# What `uname -m` says on each platform, for install.sh to refuse the wrong machine.
PLATFORMS = {
    "linux-aarch64": ("aarch64", "aarch64|arm64"),
    "linux-x86_64": ("x86_64", "x86_64|amd64"),
    "macos-arm64": ("arm64", "arm64"),
}
NOT_FOR_DEVICES = {"train", "dev"}  # TensorFlow and the test tools stay off the device
TRAINING_PACKAGES = {"tensorflow", "tensorflow_cpu", "keras", "tf2onnx", "onnx", "matplotlib"}


def platform_tags(platform: str) -> list[str]:
    """The wheel platform tags a device of `platform` accepts, newest first."""
    arch, _ = PLATFORMS[platform]
    if platform.startswith("macos"):
        return [f"macosx_{MACOS_FLOOR}_{arch}"]  # pip adds the older macOS versions itself
    manylinux = [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_FLOOR, 16, -1)]
    return [*manylinux, f"manylinux2014_{arch}"]  # pip expands no manylinux_2_N tag itself


def python_version(spec: str) -> str:
    """'3.11' as given, or the version of an interpreter named instead ('python3')."""
    if re.fullmatch(r"3\.\d+", spec):
        return spec
    if shutil.which(spec) is None:
        raise ValueError(f"--python {spec!r} is neither a version like 3.11 nor an interpreter")
    script = "import sys; print('%d.%d' % sys.version_info[:2])"
    run = subprocess.run([spec, "-c", script], capture_output=True, text=True, check=True)
    return run.stdout.strip()


def checked_extras(extras: list[str], known: set[str]) -> list[str]:
    """The extras to bundle: ones pyproject.toml defines, but not for training or tests."""
    refused = sorted(NOT_FOR_DEVICES & set(extras))
    if refused:
        raise ValueError(f"extras {refused} are not for devices (TensorFlow, test tools)")
    unknown = sorted(set(extras) - known)
    if unknown:
        raise ValueError(f"no extra {unknown} in pyproject.toml (it has {sorted(known)})")
    return sorted(set(extras))


def project_extras() -> set[str]:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return set(tomllib.load(file)["project"].get("optional-dependencies", {}))


def bundle_name(platform: str, version: str, extras: list[str]) -> str:
    suffix = "-" + "+".join(extras) if extras else ""
    return f"wheelhouse-{platform}-py{version}{suffix}"


def build_own_wheel(folder: Path) -> Path:
    """The project's wheel (pure Python, py3-none-any) from this checkout."""
    with tempfile.TemporaryDirectory() as scratch:
        pip(["wheel", "--no-deps", "--wheel-dir", scratch, str(ROOT)], "cannot build the wheel")
        (wheel,) = Path(scratch).glob("*.whl")
        return Path(shutil.copy2(wheel, folder))


def download(folder: Path, wheel: Path, platform: str, version: str, extras: list[str]) -> None:
    """Every runtime dependency of `wheel` (with `extras`), as binary wheels for the target."""
    requirement = f"{wheel}[{','.join(extras)}]" if extras else str(wheel)
    tags = [option for tag in platform_tags(platform) for option in ("--platform", tag)]
    target = [*tags, "--python-version", version]
    failure = f"no complete set of wheels for {platform}, Python {version}"
    pip(["download", "--only-binary=:all:", *target, "--dest", str(folder), requirement], failure)


def pip(arguments: list[str], failure: str) -> None:
    """pip, errors only (a machine's pip.conf may warn about every index it lists)."""
    if subprocess.run([sys.executable, "-m", "pip", "-qq", *arguments]).returncode != 0:
        raise ValueError(f"{failure} (pip's error above)")


def distribution(wheel_file: str) -> str:
    """'onnxruntime' for onnxruntime-1.32.0-cp311-...whl (names normalized as in wheels)."""
    return re.sub(r"[-_.]+", "_", wheel_file.split("-")[0]).lower()


def refuse_training_packages(folder: Path) -> None:
    """TensorFlow or its converters in the bundle: an error (build() then removes it)."""
    found = sorted({distribution(wheel.name) for wheel in folder.glob("*.whl")} & TRAINING_PACKAGES)
    if found:
        raise ValueError(f"training packages {found} came along; no bundle was written")


def write_install_script(folder: Path, platform: str, version: str, requirement: str) -> None:
    _, machines = PLATFORMS[platform]
    text = TEMPLATE.read_text()
    values = {
        "PLATFORM": platform,
        "PYTHON_VERSION": version,
        "MACHINES": machines,
        "REQUIREMENT": requirement,
    }
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    script = folder / "install.sh"
    script.write_text(text)
    script.chmod(0o755)


def files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def write_checksums(folder: Path) -> None:
    """SHA256SUMS in `sha256sum --check` format, for every file but itself."""
    lines = [
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(folder)}"
        for path in files(folder)
        if path.name != CHECKSUMS
    ]
    (folder / CHECKSUMS).write_text("\n".join(lines) + "\n")


def requirement_for(wheel: Path, extras: list[str]) -> str:
    version = wheel.name.split("-")[1]
    return f"{PROJECT}[{','.join(extras)}]=={version}" if extras else f"{PROJECT}=={version}"


def build(platform: str, version: str, extras: list[str], output: Path) -> Path:
    """The bundle folder for one target, made afresh under `output`."""
    folder = output / bundle_name(platform, version, extras)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        say(f"building the wheel, then fetching what it needs for {platform}, Python {version}")
        wheel = build_own_wheel(folder)
        download(folder, wheel, platform, version, extras)
        refuse_training_packages(folder)
        write_install_script(folder, platform, version, requirement_for(wheel, extras))
        shutil.copytree(SYSTEMD, folder / "systemd")
        write_checksums(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # never half a bundle
        raise
    return folder


def say(line: str) -> None:
    """What is under way, on stderr (the last line, the bundle, goes to stdout)."""
    print(f"wheelhouse: {line}", file=sys.stderr, flush=True)


def measure(folder: Path) -> dict[str, int]:
    """A bundle's size in bytes (what is copied to the device) and its number of wheels."""
    return {
        "bytes": sum(path.stat().st_size for path in files(folder)),
        "wheels": len(list(folder.glob("*.whl"))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=sorted(PLATFORMS), default="linux-aarch64")
    parser.add_argument("--python", default="3.11", help="the device's Python (default: 3.11)")
    parser.add_argument("--extras", default="", help="comma-separated extras (default: none)")
    parser.add_argument("--output", type=Path, default=ROOT / "dist", help="default: dist/")
    options = parser.parse_args()
    try:
        version = python_version(options.python)
        requested = [name.strip() for name in options.extras.split(",") if name.strip()]
        extras = checked_extras(requested, project_extras())
        folder = build(options.platform, version, extras, options.output)
    except (ValueError, subprocess.CalledProcessError) as error:  # (the latter: --python)
        sys.exit(f"wheelhouse: {error}")
    figures = measure(folder)
    print(f"{folder}: {figures['wheels']} wheels, {figures['bytes'] / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
