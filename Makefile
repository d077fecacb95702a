# music2palette — `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# PyTorch, installed before the package. TORCH_SPEC is the requirement; TORCH_INDEX is passed
# to pip with it. By default torch comes from the package index pip is configured with. On
# ordinary PyPI the plain `torch` wheel is the multi-GB CUDA build: for the CPU build use
#   make install TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench train clean musicnn-wheel musicnn-weights

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_INDEX) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -c "from m2p_core.recolor.lut_kernel import compile_kernels; compile_kernels()"
	touch $(STAMP)

demo: install
	$(BIN)/m2p demo --output out/demo

lint: install
	$(BIN)/ruff check .

test: install lint musicnn-wheel
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/timeline.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/inference.py
	$(BIN)/python bench/recolor.py
	$(BIN)/m2p evaluate --manifest $(MANIFEST) --json out/evaluation.json

# Reproduces the shipped checkpoints from ../shared/data/emotion4q (see docs/MODEL_CARD.md):
# v1 (the fast model), then v2 (the default) = v1 + frozen musicnn + the calibrated emotion
# head, whose step also cross-validates the head variants and draws the reliability diagram.
MANIFEST ?= ../shared/data/emotion4q/labels.csv
CKPT := m2p_core/model/checkpoints
train: install
	$(BIN)/m2p train --manifest $(MANIFEST) --val-fold -1 --output $(CKPT)/m2p-v1.pt
	mkdir -p out
	$(BIN)/m2p train-head --manifest $(MANIFEST) --base $(CKPT)/m2p-v1.pt --output $(CKPT)/m2p-v2.pt \
		--cv-json out/head-cv.json --reliability docs/reliability_v2.png

# The musicnn wheel (PyPI, ISC licence): its TF checkpoints are the source of the shipped
# m2p_core/model/checkpoints/musicnn_*.pt (scripts/convert_musicnn.py; the test that checks the
# conversion reads it). Only downloaded, never installed (its dependency pins do not install).
MUSICNN_WHEEL := .whl/musicnn-0.1.0-py3-none-any.whl
musicnn-wheel: install
	test -f $(MUSICNN_WHEEL) || $(BIN)/python -m pip download -q --no-deps musicnn==0.1.0 -d .whl

musicnn-weights: musicnn-wheel
	$(BIN)/python scripts/convert_musicnn.py $(MUSICNN_WHEEL) m2p_core/model/checkpoints

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache .ruff_cache
