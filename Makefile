# mnist-edge: `make demo` runs the whole job, `make test` runs the tests.
# Both create the virtual environment they need; only python3 and the package index are required.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME_VENV := .venv-runtime
FLOORS_VENV := .venv-floors
SEED := 0
BENCH_REPEATS ?= 5
SCALE_REPEATS ?= 3
SHIPPED_KERAS := build/model/model.keras

.PHONY: demo test check lint fuzz model samples pictures readme docs bench bench-scale \
	runtime-check test-floors clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,dev,scale]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mnist-edge train
	$(BIN)/mnist-edge export --int8
	$(BIN)/mnist-edge predict --model artifacts/model.onnx samples/
	$(BIN)/mnist-edge show data/mnist.npz --index 99 --model artifacts/model.onnx --output artifacts/show-mnist-99.png

# The whole suite, as CI runs it.
test: lint
	$(BIN)/python -m pytest

# The fast loop: lint, and every test that needs neither TensorFlow nor a subprocess (< 60 s).
check: lint
	$(BIN)/python -m pytest -m "not slow" -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# A long fuzzing campaign of the inference path (make test runs a few hundred examples).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/test_fuzz.py -q

# The tutorial's model trained with the shipped seed (what the shipped ONNX model came from).
$(SHIPPED_KERAS): | $(STAMP)
	$(BIN)/mnist-edge train --seed $(SEED) --output $(dir $@)

# Regenerate the default model shipped inside the runtime package.
model: $(SHIPPED_KERAS)
	$(BIN)/mnist-edge export --model $< --output build/model/model.onnx --int8
	cp build/model/model.onnx runtime/models/mnist-mlp.onnx
	cp build/model/model.int8.onnx runtime/models/mnist-mlp.int8.onnx

# BENCHMARKS.md: every engine on the same images, start-up, memory, install sizes. Builds a
# throw-away runtime-only venv with pip.
bench: $(STAMP) $(SHIPPED_KERAS)
	$(BIN)/python -m benchmarks.run --output BENCHMARKS.md --repeats $(BENCH_REPEATS) \
		--keras-model $(SHIPPED_KERAS)

# BENCHMARKS.md's scale section and the README's figures: the local engine against Ray with 1
# and 2 workers, on 10,000 28x28 PNGs and 2,000 280x280 JPEGs (about 5 minutes on 2 cores).
bench-scale: $(STAMP)
	$(BIN)/python -m benchmarks.scale --output BENCHMARKS.md --readme README.md \
		--repeats $(SCALE_REPEATS)

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

# The README's pictures and generated figures, from the shipped model.
docs: pictures readme

pictures: $(STAMP)
	$(BIN)/mnist-edge show data/mnist.npz --index 99 --output docs/show-mnist-99.png
	$(BIN)/mnist-edge show samples/drawn-5.jpg --output docs/show-drawn-5.png
	$(BIN)/mnist-edge evaluate data/mnist.npz --plot docs

readme: $(STAMP)
	$(BIN)/python -m benchmarks.readme README.md

# Regenerate the sample images from the MNIST test split.
samples: $(STAMP)
	$(BIN)/python tests/make_samples.py samples

clean:
	rm -rf $(VENV) $(RUNTIME_VENV) $(FLOORS_VENV) build dist artifacts .pytest_cache \
		.ruff_cache .hypothesis
