# The two front-door commands are `make run` and `make test`; everything else supports them.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
STAMP := $(VENV)/.installed-lock

.PHONY: run test test-quick lint lock venv browser-deps bench bench-home bench-load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Install exactly what the lock pins (runtime and dev, every file checked against its hash), then the project
# itself without resolving anything, byte-compiled as an installed package is (where PYTHONDONTWRITEBYTECODE is
# set, Python would otherwise compile every module again in every process). Changing pyproject.toml or the lock
# reinstalls.
$(STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q evals service governance steward_client
	touch $(STAMP)

venv: $(STAMP)

# axe-core, which the browser tests inject into every page to check it against WCAG 2.1 A/AA: exactly the version
# and hash tests/browser/package-lock.json pins, from the npm registry.
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $(AXE)

browser-deps: $(AXE)

run: $(STAMP)
	mkdir -p -m 700 var
	$(BIN)/steward db upgrade
	$(BIN)/steward demo
	$(BIN)/steward serve

# Two test processes, one a core; each has its own PostgreSQL database and Redis db (tests/conftest.py). A file's
# tests stay in one process, so its module fixtures are made once. `make test XDIST=` runs them in one process.
XDIST ?= -n 2 --dist loadfile

test: $(STAMP) $(AXE)
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# The tests without those marked `slow`.
test-quick: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(XDIST) $(PYTEST_ARGS)

# Every check runs, even after one fails, so one pass shows everything to fix.
lint: $(STAMP)
	@status=0; \
	for check in "ruff check ." "ruff format --check ." "mypy" "lint-imports"; do \
		echo "lint: $$check"; $(BIN)/$$check || status=1; \
	done; \
	exit $$status

# Re-resolve the lock from pyproject.toml. Existing pins are kept unless asked:
# make lock LOCK_ARGS="--upgrade-package fastapi"   or   make lock LOCK_ARGS=--upgrade
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --extra dev --extra local-embeddings --all-build-deps --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --output-file $(LOCK) $(LOCK_ARGS) pyproject.toml

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# The web app's home at 1,000 products (SQLite; BENCH_ARGS="--postgres URL" adds PostgreSQL).
bench-home: $(STAMP)
	$(BIN)/python bench/home.py $(BENCH_ARGS)

# A real `steward serve` under wrk on SQLite and PostgreSQL (a scratch database: STEWARD_BENCH_POSTGRES_URL).
bench-load: $(STAMP)
	$(BIN)/python bench/load.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
