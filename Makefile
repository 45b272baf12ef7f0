# bayesbg: `make demo` runs the built-in demo, `make test` the test suite.
# Both create what is missing (virtual environment, the package in editable mode,
# CmdStan built from PyPI, compiled Stan models) and rebuild nothing when it is there.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.bayesbg-installed

.PHONY: demo test test-slow lint docs setup doctor bench clean

demo: setup
	$(PY) -m bayesbg demo --overwrite

test: setup
	$(PY) -m pytest -m "not slow"

test-slow: setup
	$(PY) -m pytest -m slow

lint: $(INSTALLED)
	$(VENV)/bin/ruff check bayesbg tests benchmarks analyses data_prep

# The documentation site (Sphinx, numpydoc, MyST): docs/_build/html/index.html.
# Warnings are errors; the API reference is generated from the docstrings.
docs: $(INSTALLED)
	rm -rf docs/_build docs/generated
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# CmdStan (built once into ~/.cache/bayesbg), then the package's Stan models
# (compiled once into the model cache).
setup: $(INSTALLED)
	$(PY) -m bayesbg setup
	$(PY) -m bayesbg compile

doctor: setup
	$(PY) -m bayesbg doctor

bench: setup
	$(PY) benchmarks/toolchain.py --json benchmarks/results/toolchain.json

$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(PY):
	$(PYTHON) -m venv $(VENV)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache docs/_build docs/generated
