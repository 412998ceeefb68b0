# The two commands for a fresh machine: `make demo` and `make test`.
# Each creates .venv from the project's own files when it is missing or stale.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install benchmark clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/leadscore demo

test: $(STAMP)
	$(BIN)/pytest -q
	$(BIN)/pytest -q -p no:cacheprovider -o addopts="" --nbmake notebooks

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf leadscore-work .pytest_cache
