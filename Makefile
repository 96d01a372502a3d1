# Reclaim — `make run` starts everything on this machine; `make test` runs the whole suite.
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
PG_URL  ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-pg test-fast bench lint typecheck system-deps install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the browser and compose tests drive (Chromium, docker-compose's `config`).
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! command -v docker-compose >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get update -qq || true) && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium docker-compose >/dev/null; \
	  else \
	    echo "install Debian's chromium and docker-compose (sudo apt-get install chromium docker-compose)"; \
	  fi; \
	fi

run: install
	$(BIN)/reclaim up

test: install system-deps
	$(BIN)/pytest -q

test-pg: install system-deps
	RECLAIM_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q

test-fast: install
	$(BIN)/pytest -q -m "not e2e and not browser"

bench: install
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/era_ingest.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/scrub.py

lint: install
	$(BIN)/ruff check contracts reclaim workflows activities api worker.py cli.py temporal_client.py tests bench

typecheck: install
	$(BIN)/mypy --strict contracts reclaim workflows activities api worker.py cli.py temporal_client.py

clean:
	rm -rf var .pytest_cache
