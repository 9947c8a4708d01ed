# Two entry points, each working on a fresh machine by itself:
#   make demo   -> set up, then run the main job on the sample chats (offline default model)
#   make test   -> set up, then run the tests
# Set-up installs the CPU torch wheel first (torch==2.13.0), so nothing pulls a CUDA build,
# and is skipped when pyproject.toml has not changed since the last set-up.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.csdialog-setup

.PHONY: setup demo test test-fast lint typecheck bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -c "import torch; assert torch.version.cuda is None, 'a CUDA torch build was installed'"
	touch $(STAMP)

demo: setup
	$(BIN)/csdialog analyze examples/data/sample_chats.jsonl --out results/demo \
		--logics examples/answer_logic.yaml

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not model"

lint: setup
	$(BIN)/ruff check src tests benchmarks examples

typecheck: setup
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/bench_encoders.py --data-root ../shared/datasets --out benchmarks/results
	$(BIN)/python benchmarks/bench_inference.py --data-root ../shared/datasets --out benchmarks/results

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis results
