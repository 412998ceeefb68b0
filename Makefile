# The two commands for a fresh machine: `make demo` and `make test`.
# Each creates .venv from the project's own files when it is missing or stale. The demo's venv
# holds only what the demo runs; the test targets add the dev tools and pyspark to the same venv
# (one stamp per install, so `make demo` then `make test` upgrades it in place).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev-spark

.PHONY: demo test test-fast install benchmark clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,spark]'
	touch $@

install: $(DEV_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/leadscore demo

# Everything CI runs (.ci/run): the whole suite on both cores, Spark included, then the notebooks (a cell
# may train a model: 15 minutes before it counts as hung, for a loaded CI machine).
# loadscope keeps a module's tests on one worker, so a Spark session or module fixture is built once.
# One OpenMP thread per worker: two workers on two cores, each LightGBM or BLAS call on its own core.
test: $(DEV_STAMP)
	OMP_NUM_THREADS=1 $(BIN)/pytest -q -n 2 --dist loadscope
	$(BIN)/pytest -q -p no:cacheprovider -o addopts="" --nbmake --nbmake-timeout=900 notebooks

# Under 4 minutes on 2 cores: every layer (features, models, pipeline and its CLI errors), but
# nothing that trains a model, runs the demo, starts Spark or searches long (markers slow, spark).
test-fast: $(DEV_STAMP)
	OMP_NUM_THREADS=1 $(BIN)/pytest -q -n 2 -m "not slow and not spark"

benchmark: $(DEV_STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf leadscore-work .pytest_cache
