# latentatlas: every target sets up .venv by itself on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# CPU threads: use the machine's cores unless the caller says otherwise.
export OMP_NUM_THREADS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: install demo test fuzz soak bench lint dist-check clean

install: $(STAMP)

# torch==2.13.0 first: the CPU build on this disk. A bare "torch" would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m latentatlas demo

test: $(STAMP)
	$(BIN)/python -m pytest

# longer runs of the reliability tests: thousands of fuzz examples (fuzz); ten times more and 200 random kills (soak)
fuzz: $(STAMP)
	LATENTATLAS_FUZZ=fuzz $(BIN)/python -m pytest tests/test_fuzz_loaders.py tests/test_fuzz_config.py

soak: $(STAMP)
	LATENTATLAS_FUZZ=soak LATENTATLAS_SOAK_KILLS=200 $(BIN)/python -m pytest tests/test_fuzz_loaders.py \
		tests/test_fuzz_config.py tests/test_kill_resume.py tests/test_faults.py tests/test_recovery.py tests/bad_inputs

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all

# the wheel as users install it, in a fresh venv, run from outside the repository
dist-check: $(STAMP)
	PY=$(PY) bash scripts/dist-check.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache
