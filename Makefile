# Caseshare: `make run` serves the demo, `make test` runs every test. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export CASESHARE_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test install lint imports typecheck pytest demo-check clean bench bench-floor bench-quick bench-retention check-wrk reliability i18n

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi caseshare seed-demo
	@echo ""
	@echo "Caseshare is starting on http://127.0.0.1:5000 (demo data: Derby partnership)."
	@echo "Get a token for the demo work coach, then read a claimant's shared case plan:"
	@echo '  TOKEN=$$($(BIN)/flask --app wsgi caseshare token issue --user sam.okafor@jcp-derby.example)'
	@echo '  curl -s -H "Authorization: Bearer $$TOKEN" "http://127.0.0.1:5000/api/v1/subjects?nino=QQ123456C&purpose=case_management"'
	@echo '  curl -s -H "Authorization: Bearer $$TOKEN" "http://127.0.0.1:5000/api/v1/subjects/<id>/case-plan?purpose=case_management"'
	@echo "API description: http://127.0.0.1:5000/openapi.json"
	@echo "The worker beside it seals audit events into the signed log within a second. Ctrl-C stops both."
	@echo ""
	BIN=$(BIN) bash scripts/run.sh

# Re-extract the claimant-facing messages and add new ones to the Welsh catalogue (untranslated,
# so tests/web/test_i18n.py fails until someone translates them). The app reads the .po files
# directly: there is nothing to compile.
i18n: install
	$(BIN)/pybabel extract -F caseshare/web/babel.cfg -k N_ -k _ --no-location --omit-header \
		--sort-output -o caseshare/web/translations/messages.pot .
	$(BIN)/pybabel update -i caseshare/web/translations/messages.pot -d caseshare/web/translations \
		-l cy --no-fuzzy-matching --ignore-pot-creation-date --width 100

lint: install
	$(BIN)/ruff check .

# Import contracts (pyproject.toml [tool.importlinter]): edge -> access -> domain -> base, domain
# packages import neither Flask nor caseshare.access, and no package cycle.
imports: install
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# One test process per core (pytest-xdist): each worker starts its own throwaway PostgreSQL,
# Redis and Chromium, so the suite's wall time roughly halves on the 2-core machines here.
PYTEST_WORKERS ?= auto

pytest: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

test: lint imports typecheck pytest

# Set up a fresh instance, seed it, serve it briefly and make the README's example request.
demo-check: install
	bash scripts/demo-check.sh

# Benchmarks (BENCHMARKS.md): the issue's full-size data set (BENCH_SCALE=1), or a fraction of it
# (`make bench BENCH_SCALE=0.1`); bench-quick is a tiny version for CI that leaves the committed
# results alone.
BENCH_SCALE ?= 1

check-wrk:
	@command -v wrk >/dev/null || { echo "wrk is not installed: sudo apt-get install -y wrk"; exit 1; }

bench: install check-wrk
	$(BIN)/python -m bench.run --scale $(BENCH_SCALE)

# The floor under read_vs_hello (bench/lean_floor.py): the minimal endpoint plus only a durable
# audit commit, a lean read on the raw driver, and Caseshare, in interleaved rounds on both
# engines (about 3 minutes); writes bench/results-floor.json.
bench-floor: install check-wrk
	$(BIN)/python -m bench.lean_floor

# One retention pass over the bench data set with 10 % of cases closed long ago: time, peak
# memory and counts (bench/retention_bench.py; writes bench/results-retention.json).
bench-retention: install
	$(BIN)/python -m bench.retention_bench --scale $(BENCH_SCALE)

# The MI query (disclosure-controlled outcome counts) over the bench data set plus two outcomes
# per claimant, by partner, service line and month (bench/mi_bench.py; writes
# bench/results-mi.json). Target: under 2 s.
bench-mi: install
	$(BIN)/python -m bench.mi_bench --scale $(BENCH_SCALE)

bench-quick: install check-wrk
	$(BIN)/python -m bench.run --scale 0.002 --rounds 2 --duration 3 --out /tmp/caseshare-bench-quick.json --markdown /tmp/caseshare-bench-quick.md

# The full reliability run (about 45 minutes on 2 cores): schemathesis fuzz of every API
# operation (~2,300 requests), hypothesis fuzz of the protocol, consent form and request parsers,
# concurrent audited reads on PostgreSQL, gunicorn workers SIGKILLed under load, abuse cases, and
# a 5-minute soak per engine at 80% of the maximum measured at the start.
# `make test` runs the same tests with small sizes. Figures: docs/reliability.md.
RELIABILITY_REPORT ?= $(CURDIR)/instance/reliability-report.jsonl
reliability: install
	mkdir -p $(dir $(RELIABILITY_REPORT)) && rm -f $(RELIABILITY_REPORT)
	CASESHARE_FUZZ_EXAMPLES=50 CASESHARE_RACE_THREADS=16 CASESHARE_RACE_READS=125 \
	CASESHARE_KILL_SECONDS=60 CASESHARE_KILL_FAULTS=6 CASESHARE_KILL_THREADS=8 \
	CASESHARE_SOAK_SECONDS=300 CASESHARE_SOAK_PROBE_SECONDS=15 \
	CASESHARE_MODEL_EXAMPLES=200 CASESHARE_MODEL_STEPS=40 \
	CASESHARE_HYPOTHESIS_PROFILE=parsers-full \
	CASESHARE_RELIABILITY_REPORT=$(RELIABILITY_REPORT) \
	$(BIN)/python -m pytest tests/reliability -q -s
	# The browser journeys on PostgreSQL too (`make test` runs them on SQLite only).
	CASESHARE_BROWSER_ON_POSTGRESQL=1 $(BIN)/python -m pytest tests/web -q -k postgresql \
		-n $(PYTEST_WORKERS)
	@echo "Figures: $(RELIABILITY_REPORT)"

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
