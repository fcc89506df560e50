# tocsin — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck format clean docs bench-micro bench-delivery bench

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/tocsin db upgrade
	$(BIN)/tocsin serve

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

format: $(STAMP)
	$(BIN)/ruff format src tests scripts benchmarks
	$(BIN)/ruff check --fix src tests scripts benchmarks

clean:
	rm -rf $(VENV) $(SERVE_VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info src/*.egg-info

docs: $(STAMP)
	$(BIN)/python scripts/gen_config_docs.py

# Benchmarks are on demand only, never part of `make test` (figures: docs/performance.md).
bench-micro: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m pytest benchmarks/bench_micro.py -p no:cacheprovider -q \
		--benchmark-columns=min,median,mean,ops,rounds --benchmark-sort=name

bench-delivery: $(STAMP)
	$(BIN)/python benchmarks/delivery_bench.py

# tocsin vs a slack_bolt baseline over HTTP, driven by wrk (apt-get install -y wrk); loopback only.
# tocsin is served from a production install (what the Docker image runs: no test or benchmark
# tools, which would add modules and memory); the load generator side runs in the dev venv.
SERVE_VENV := .venv-serve

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install -y wrk"; exit 1; }
	@test -x $(SERVE_VENV)/bin/python || $(PYTHON) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/python -m pip install --quiet --upgrade .
	$(BIN)/python benchmarks/http_bench.py --tocsin $(SERVE_VENV)/bin/tocsin $(BENCH_ARGS)
