# mnist-edge: `make demo` runs the whole job, `make test` runs the tests.
# Both create the virtual environment they need; only python3 and the package index are required.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME_VENV := .venv-runtime
SEED := 0
BENCH_REPEATS ?= 5
PLATFORM ?= linux-aarch64
EXTRAS ?=
SUITE ?= bookworm
CPUS ?=

.PHONY: demo test lint model samples pictures bench runtime-check wheelhouse test-aarch64 clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mnist-edge train
	$(BIN)/mnist-edge export --int8
	$(BIN)/mnist-edge predict --model artifacts/model.onnx samples/
	$(BIN)/mnist-edge show data/mnist.npz --index 99 --model artifacts/model.onnx --output artifacts/show-mnist-99.png

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Regenerate the default model shipped inside the runtime package.
model: $(STAMP)
	$(BIN)/mnist-edge train --seed $(SEED) --output build/model
	$(BIN)/mnist-edge export --model build/model/model.keras --output build/model/model.onnx --int8
	cp build/model/model.onnx runtime/models/mnist-mlp.onnx
	cp build/model/model.int8.onnx runtime/models/mnist-mlp.int8.onnx

# BENCHMARKS.md: every engine on the same images, start-up, memory, install sizes. Needs the
# train extra and build/model/model.keras (`make model`); builds a throw-away runtime-only venv.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --output BENCHMARKS.md --repeats $(BENCH_REPEATS)

# The base install (no extras) in a separate environment, from a built wheel: no TensorFlow.
runtime-check:
	rm -rf $(RUNTIME_VENV) build/wheel
	$(PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(RUNTIME_VENV)/bin/python -m pip wheel --quiet --no-deps --wheel-dir build/wheel .
	$(RUNTIME_VENV)/bin/python -m pip install --quiet build/wheel/mnist_edge-*.whl
	cd /tmp && $(CURDIR)/$(RUNTIME_VENV)/bin/python $(CURDIR)/tests/check_runtime_install.py

# An offline install bundle in dist/: make wheelhouse PLATFORM=linux-aarch64|linux-x86_64|macos-arm64
# PYTHON=3.11 [EXTRAS=serve]. Here PYTHON is the device's Python version (default 3.11).
wheelhouse:
	python3 device/wheelhouse.py --platform $(PLATFORM) --extras '$(EXTRAS)' \
		--python $(if $(filter command line environment,$(origin PYTHON)),$(PYTHON),3.11)

# The linux-aarch64 bundle installed offline in an emulated Debian arm64 (root, and the packages
# of .ci/system-packages): parity with x86_64, build/aarch64/$(SUITE)/parity-aarch64.json and
# the README's device figures. SUITE=trixie: Debian 13, Python 3.13. CPUS: qemu CPU models
# (default: cortex-a72 cortex-a76, a Raspberry Pi 4's and 5's).
test-aarch64:
	bash device/aarch64-check $(SUITE) $(CPUS)

# The README's pictures, from the shipped model.
pictures: $(STAMP)
	$(BIN)/mnist-edge show data/mnist.npz --index 99 --output docs/show-mnist-99.png
	$(BIN)/mnist-edge show samples/drawn-5.jpg --output docs/show-drawn-5.png
	$(BIN)/mnist-edge evaluate data/mnist.npz --plot docs

# Regenerate the sample images from the MNIST test split.
samples: $(STAMP)
	$(BIN)/python tests/make_samples.py samples

# --one-file-system: never into a /proc, /sys or /dev left bound in build/aarch64 by a killed check
clean:
	rm -rf --one-file-system $(VENV) $(RUNTIME_VENV) build dist artifacts .pytest_cache .ruff_cache
