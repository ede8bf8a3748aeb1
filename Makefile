# Two entry points for a fresh machine: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8501
export CXRVIZ_IMAGES ?= $(if $(wildcard ../shared/nih/images),$(abspath ../shared/nih/images),)

.PHONY: run test setup setup-test bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

setup: $(VENV)/.installed

# Debian packages the tests drive: a real Chromium, and PostgreSQL for the team store.
setup-test: $(VENV)/.installed-test
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	@test -d tests/e2e/oidc/node_modules/oidc-provider || npm install --prefix tests/e2e/oidc --no-audit --no-fund --silent

run: setup
	$(VENV)/bin/streamlit run app.py --server.address $(HOST) --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

test: setup-test
	$(PY) -m pytest -q --durations=15 tests

bench: setup-test
	$(PY) benchmarks/bench_dataset.py
	$(PY) benchmarks/bench_inference.py
	$(PY) benchmarks/bench_cam.py
	$(PY) benchmarks/bench_upload_memory.py
	$(PY) benchmarks/bench_browser.py --steps 30

clean:
	rm -rf $(VENV) .pytest_cache
