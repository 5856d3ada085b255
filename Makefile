PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test clean

run: $(VENV)/.installed
	$(BIN)/msatom run

# Three pytest workers on two cores, each given whole test files, so that a module's system
# starts once: a third fills the time the others wait for processes to start and stop.
# Files in the order pytest collects them (end-to-end first, unit tests last to fill the
# end), not the largest first: a one-test file that waits minutes (an alert) would end the run.
PYTEST_ARGS ?= -n 3 --dist loadfile --no-loadscope-reorder
PACKAGES := account common invoicing msatom order shipping
# The pytest plugins the suite uses, named, and no other loaded: pytest rewrites the
# asserts of every module of a plugin it finds installed (all of hypothesis and
# schemathesis), in each worker anew where PYTHONDONTWRITEBYTECODE keeps it from
# caching them, about 6 s of CPU a worker; of a plugin named with -p, only its module.
PYTEST_PLUGINS := -p xdist -p hypothesispytest -p schemathesis

# The sources are compiled first: the hundreds of processes the tests start then load
# bytecode, also where PYTHONDONTWRITEBYTECODE keeps Python from caching it by itself.
test: $(VENV)/.installed-test node_modules/.installed
	$(BIN)/python -m compileall -q -j 0 $(PACKAGES)
	PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 $(BIN)/python -m pytest $(PYTEST_PLUGINS) $(PYTEST_ARGS)

$(VENV)/.installed: setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# axe-core, which the browser tests inject into pages to check them against WCAG A and AA.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

clean:
	rm -rf $(VENV) var test-artifacts node_modules
