# mnist-edge: `make demo` runs the whole job, `make test` runs the tests.
# Both create the virtual environment they need; only python3 and the package index are required.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME_VENV := .venv-runtime
FLOORS_VENV := .venv-floors
WEB_STAMP := web/dist/.built
WEB_SOURCES := $(wildcard web/*.html web/*.css web/*.js) web/build.mjs web/package.json web/package-lock.json
SEED := 0
BENCH_REPEATS ?= 5
SCALE_REPEATS ?= 3
SHIPPED_KERAS := build/model/model.keras
PLATFORM ?= linux-aarch64
EXTRAS ?=
SUITE ?= bookworm
CPUS ?=
CNN_KERAS := build/model-cnn/model.keras
TFLM_VENV := .venv-tflm
# The model card's four recipes: the two shipped ones and two more, each folder a training run.
CARD_MODELS := build/model build/card/mlp-augment build/card/cnn build/model-cnn

.PHONY: demo test system-packages check lint typecheck fuzz model model-card samples pictures figures docs bench \
	bench-serve bench-scale bench-instructions runtime-check test-floors clean web \
	web-screenshot bench-web wheelhouse test-aarch64 test-mcu mcu-tflm docs-mcu

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,dev,serve,scale,docs]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mnist-edge train
	$(BIN)/mnist-edge export --int8
	$(BIN)/mnist-edge predict --model artifacts/model.onnx samples/
	$(BIN)/mnist-edge show data/mnist.npz --index 99 --model artifacts/model.onnx --output artifacts/show-mnist-99.png

# The whole suite, as CI runs it (the browser tests need the page built). First, in seconds:
# the Debian packages it needs (installed when run as root, as CI does; else named).
test: system-packages lint web
	$(BIN)/python -m pytest

system-packages:
	$(call system_packages,test)

# A stage's Debian packages: installed when run as root (as CI does), else checked (one line
# naming what is missing and how to install it).
system_packages = @if [ "$$(id -u)" = 0 ]; then bash .ci/system-packages --for $(1); \
	else bash .ci/system-packages --check --for $(1); fi

# The fast loop: lint, and every test that needs neither TensorFlow nor a subprocess (< 60 s).
check: lint
	$(BIN)/python -m pytest -m "not slow" -q

lint: $(STAMP) typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy over core, runtime and serve (the library and the service), as installed: mnist_edge.*
typecheck: $(STAMP)
	@$(BIN)/python docs/hooks/api_sources.py >/dev/null
	cd build/api && $(CURDIR)/$(BIN)/mypy -p mnist_edge.core -p mnist_edge.runtime -p mnist_edge.serve

# A long fuzzing campaign of the inference path (make test runs a few hundred examples).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/test_fuzz.py -q

# The tutorial's model trained with the shipped seed (what the shipped ONNX model came from).
$(SHIPPED_KERAS): | $(STAMP)
	$(BIN)/mnist-edge train --seed $(SEED) --output $(dir $@)

# The shipped CNN: the small CNN trained on augmented digits, same seed.
$(CNN_KERAS): | $(STAMP)
	$(BIN)/mnist-edge train --arch cnn --augment --seed $(SEED) --output $(dir $@)

build/card/mlp-augment/model.keras: | $(STAMP)
	$(BIN)/mnist-edge train --augment --seed $(SEED) --output $(dir $@)

build/card/cnn/model.keras: | $(STAMP)
	$(BIN)/mnist-edge train --arch cnn --seed $(SEED) --output $(dir $@)

# Every exported model has proven parity with Keras and an int8 twin that met its gates.
%/model.onnx: %/model.keras
	$(BIN)/mnist-edge export --model $< --output $@ --int8

# Regenerate the models shipped inside the runtime package (cnn is the default).
model: build/model/model.onnx build/model-cnn/model.onnx
	cp build/model/model.onnx runtime/models/mnist-mlp.onnx
	cp build/model/model.int8.onnx runtime/models/mnist-mlp.int8.onnx
	cp build/model-cnn/model.onnx runtime/models/mnist-cnn.onnx
	cp build/model-cnn/model.int8.onnx runtime/models/mnist-cnn.int8.onnx

# Each figure's home is one page (docs/development.md, "Generated figures", lists them all).
# The model card (docs/model-card.md): four recipes, float32 and int8, measured in one run
# (about 15 minutes on 2 cores when nothing is built yet; the figures alone take a minute).
model-card: $(addsuffix /model.onnx,$(CARD_MODELS))
	$(BIN)/python -m benchmarks.model_card docs/model-card.md $(CARD_MODELS)

# docs/performance.md: every engine on the same images, start-up, memory, install sizes, one
# image at a time, a folder of images against bare Pillow. Builds a throw-away runtime venv.
bench: $(STAMP) $(SHIPPED_KERAS:.keras=.onnx)
	$(BIN)/python -m benchmarks.run --output docs/performance.md --repeats $(BENCH_REPEATS) \
		--keras-model $(SHIPPED_KERAS)
	$(BIN)/python -m benchmarks.folder --output docs/performance.md --repeats $(BENCH_REPEATS)

# docs/serve.md, "Under load": `mnist-edge serve` under load on 127.0.0.1 (starts and stops
# its own servers; about 3 minutes). SERVE_SECONDS per run, SOAK_SECONDS for the soak.
SERVE_SECONDS ?= 5
SOAK_SECONDS ?= 60
bench-serve: $(STAMP)
	$(BIN)/python -m benchmarks.serve_bench --output docs/serve.md --seconds $(SERVE_SECONDS) \
		--soak-seconds $(SOAK_SECONDS)

# docs/performance.md: instructions per batch-1 call at each step of the single-image path,
# under valgrind's callgrind (independent of the machine's load; needs valgrind; ~5 minutes).
bench-instructions: $(STAMP) $(SHIPPED_KERAS)
	$(BIN)/python -m benchmarks.instructions --output docs/performance.md \
		--keras-model $(SHIPPED_KERAS)

# docs/cluster.md: the local engine against Ray with 1 and 2 workers, on 10,000 28x28 PNGs
# and 2,000 280x280 JPEGs, and what that projects to (about 5 minutes on 2 cores).
bench-scale: $(STAMP)
	$(BIN)/python -m benchmarks.scale --output docs/cluster.md --repeats $(SCALE_REPEATS)

# The base install (no extras) in a separate environment, from a built wheel: no TensorFlow.
runtime-check:
	rm -rf $(RUNTIME_VENV) build/wheel
	$(PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(RUNTIME_VENV)/bin/python -m pip wheel --quiet --no-deps --wheel-dir build/wheel .
	$(RUNTIME_VENV)/bin/python -m pip install --quiet build/wheel/mnist_edge-*.whl
	cd /tmp && $(CURDIR)/$(RUNTIME_VENV)/bin/python $(CURDIR)/tests/check_runtime_install.py

# The runtime at the oldest releases pyproject.toml allows (.ci/floors.txt), fast tests only.
test-floors:
	rm -rf $(FLOORS_VENV)
	$(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS_VENV)/bin/python -m pip install --quiet -c .ci/floors.txt -e '.[dev]' onnx
	$(FLOORS_VENV)/bin/python -m pip list 2>/dev/null | grep -iE '^(numpy|onnxruntime|pillow|typer) '
	MNIST_EDGE_RUNTIME_ONLY=1 $(FLOORS_VENV)/bin/python -m pytest -m "not slow" -q -p no:cacheprovider

# An offline install bundle in dist/: make wheelhouse PLATFORM=linux-aarch64|linux-x86_64|macos-arm64
# PYTHON=3.11 [EXTRAS=serve]. Here PYTHON is the device's Python version (default 3.11).
wheelhouse:
	python3 device/wheelhouse.py --platform $(PLATFORM) --extras '$(EXTRAS)' \
		--python $(if $(filter command line environment,$(origin PYTHON)),$(PYTHON),3.11)

# The linux-aarch64 bundle installed offline in an emulated Debian arm64 (root, and the packages
# of .ci/system-packages): parity with x86_64, build/aarch64/$(SUITE)/parity-aarch64.json and
# the device figures of docs/devices.md. SUITE=trixie: Debian 13, Python 3.13. CPUS: qemu CPU models
# (default: cortex-a72 cortex-a76, a Raspberry Pi 4's and 5's).
test-aarch64:
	bash device/aarch64-check $(SUITE) $(CPUS)

# The documentation site, into build/site: strict, so a broken link or a missing page fails.
# Opened from disk, it works offline (mkdocs.yml says how).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	@echo "docs: build/site/index.html"

# The figures that need no benchmark run, with the default model: the samples' output in the
# README, the wild-digit figures, the export's parity report (from build/model/parity.json,
# left by `make model`), and the pictures of show and evaluate.
figures: pictures
	$(BIN)/python -m benchmarks.doc_figures

pictures: $(STAMP)
	$(BIN)/mnist-edge show data/mnist.npz --index 99 --output docs/show-mnist-99.png
	$(BIN)/mnist-edge show samples/drawn-5.jpg --output docs/show-drawn-5.png
	$(BIN)/mnist-edge evaluate data/mnist.npz --plot docs

# The page in the browser: web/dist, a static site (serve it with any static file server).
web: $(WEB_STAMP)

$(WEB_STAMP): $(WEB_SOURCES) $(wildcard runtime/models/*.onnx)
	cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	node web/build.mjs
	touch $@

# docs/web.png: the page in headless Chromium with a digit drawn on the pad.
web-screenshot: $(STAMP) $(WEB_STAMP)
	$(BIN)/python -m benchmarks.screenshot docs/web.png

# docs/browser.md: the page's size, time to first prediction and live prediction time.
bench-web: $(STAMP) $(WEB_STAMP)
	$(BIN)/python -m benchmarks.web --output docs/browser.md

# The C generated from the four shipped models (mnist-edge export-c), proven on the host
# against onnxruntime (10,000 images) and under qemu on a Cortex-M4 and a Cortex-M3 (1,000
# images), with flash, RAM and instruction figures held to the targets (about 2 minutes).
# Needs gcc, clang, gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm.
test-mcu: $(STAMP)
	$(call system_packages,mcu)
	$(BIN)/python -m device.mcu.check --output build/mcu

# TensorFlow Lite Micro's arena for the same models (device/mcu/tflm.json), measured by the
# tflite-micro package in a throw-away environment (about a minute).
mcu-tflm: $(STAMP)
	rm -rf $(TFLM_VENV)
	$(PYTHON) -m venv $(TFLM_VENV)
	$(TFLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TFLM_VENV)/bin/python -m pip install --quiet tflite-micro
	$(BIN)/python device/mcu/tflm.py convert build/mcu/tflite
	$(TFLM_VENV)/bin/python device/mcu/tflm.py measure build/mcu/tflite device/mcu/tflm.json

# docs/mcu.md's figures: a run of test-mcu beside the TFLM figures.
docs-mcu: test-mcu
	$(BIN)/python -m device.mcu.docs docs/mcu.md build/mcu/figures.json device/mcu/tflm.json

# Regenerate the sample images and the test slice `bench` ships (measure/) from MNIST.
samples: $(STAMP)
	$(BIN)/python -m harness.samples samples

# --one-file-system: never into a /proc, /sys or /dev left bound in build/aarch64 by a killed check
clean:
	rm -rf --one-file-system $(VENV) $(RUNTIME_VENV) $(FLOORS_VENV) $(TFLM_VENV) build dist \
		artifacts .pytest_cache .ruff_cache .hypothesis web/dist web/node_modules
