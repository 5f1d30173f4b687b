# Two commands do everything: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501
WORKERS ?= 2
THREADS ?= 2
# pytest-xdist workers for `make test` (2 cores here; tests that share a server object carry an xdist_group)
TEST_WORKERS ?= 2

# Streamlit's upload box limit follows the MAX_UPLOAD_MB setting (environment or .env), read when the app starts.
UPLOAD_MB = $$($(BIN)/python -c 'from core.config import get_settings; print(get_settings().max_upload_mb)')

.PHONY: run dev test worker scheduler bench lint docs migrate install chromium clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python -m core.db

run: migrate
	$(BIN)/streamlit run Home.py --server.port $(PORT) --server.headless true --server.maxUploadSize $(UPLOAD_MB)

dev: migrate
	APP_ENV=development $(BIN)/streamlit run Home.py --server.port $(PORT) --client.showErrorDetails full --server.maxUploadSize $(UPLOAD_MB)

worker: migrate
	$(BIN)/dramatiq jobs.worker --processes $(WORKERS) --threads $(THREADS) --queues default ml_tasks analysis_tasks gpu_tasks

# Enqueues scheduled runs (needs Redis); two may run, an advisory lock elects one. Embedded mode runs it in the app.
scheduler: migrate
	$(BIN)/python -m jobs.scheduler

chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

test: install chromium
	$(BIN)/python -m pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .

docs: install
	$(BIN)/python -m tools.archdoc

clean:
	rm -rf $(VENV) .venv-bench-* data/tmp
