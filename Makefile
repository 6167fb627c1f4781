# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint browser java bench bench-scale fuzz clean

run: $(STAMP)
	$(BIN)/stagehunt hunt

test: $(STAMP) lint browser java
	$(BIN)/pytest

# The HTML report test opens the page in headless Chromium (Debian's package).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		>/dev/null 2>&1 || echo "note: chromium not installed; the report browser test will skip"; }

# The Spark engine's tests run a local Spark (PySpark comes from the `spark` extra): Java 17+.
java:
	@command -v java >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		openjdk-17-jre-headless) >/dev/null 2>&1 || echo "note: no Java; the Spark tests will fail"; }

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts fuzz
	$(BIN)/ruff format --check src tests bench scripts fuzz
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_seed.py

# 1M, 10M and 100M events (100M via the Parquet lake): long (see bench/RESULTS.md)
bench-scale: $(STAMP)
	$(BIN)/python bench/bench_scale.py --write --memory-limit 3GB

# The fuzzing campaign: every fuzz/fuzz_*.py for FUZZ_SECONDS each (the tests run each
# on a small fixed budget); `python fuzz/fuzz_spl.py --help` for one target.
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	for target in fuzz/fuzz_*.py; do \
		$(BIN)/python $$target --examples 100000000 --seconds $(FUZZ_SECONDS) || exit 1; done

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,spark,geoip]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
