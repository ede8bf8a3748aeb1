# Two entry points for a fresh machine: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8501
export CXRVIZ_IMAGES ?= $(if $(wildcard ../shared/nih/images),$(abspath ../shared/nih/images),)

.PHONY: run test setup setup-test bench model clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

setup: $(VENV)/.installed

# Debian packages the tests drive: a real Chromium, PostgreSQL for the team store, and Orthanc with its
# DICOMweb plugin for the PACS tests (tests/pacs).
setup-test: $(VENV)/.installed-test
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
	@{ command -v Orthanc >/dev/null || test -x /usr/sbin/Orthanc; } && ls /usr/share/orthanc/plugins/libOrthancDicomWeb.so >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq orthanc orthanc-dicomweb; }
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

# Rebuild the bundled ensemble from the images (models/cxrviz-ensemble.*): for each recipe, a 5-fold
# cross-validation (the figures) and one model on every image (the member), then `ensemble` packs them.
# About 75 min on 2 quiet CPU cores (two 5-fold runs of ~30 min, two members of ~6 min); minutes on a GPU.
MODEL_WORK ?= artifacts/ensemble
RECIPE := --epochs 16 --freeze-blocks 4 --lr 5e-4 --seed 0
RECIPES := a:--input-size=256 b:--input-size=256,--layer-decay=0.8
model: setup
	@test -n "$(CXRVIZ_IMAGES)" || { echo "set CXRVIZ_IMAGES to the image folder"; exit 2; }
	mkdir -p $(MODEL_WORK)
	$(foreach r,$(RECIPES),$(PY) -m cxrviz train --images $(CXRVIZ_IMAGES) $(RECIPE) $(subst $(comma), ,$(word 2,$(subst :, ,$(r)))) --folds 5 --db $(MODEL_WORK)/oof.sqlite --out $(MODEL_WORK)/cv-$(word 1,$(subst :, ,$(r))) &&) true
	$(foreach r,$(RECIPES),$(PY) -m cxrviz train --images $(CXRVIZ_IMAGES) $(RECIPE) $(subst $(comma), ,$(word 2,$(subst :, ,$(r)))) --out $(MODEL_WORK)/member-$(word 1,$(subst :, ,$(r))).pt &&) true
	$(PY) -m cxrviz ensemble --images $(CXRVIZ_IMAGES) $(foreach r,$(RECIPES),--member $(MODEL_WORK)/member-$(word 1,$(subst :, ,$(r))).pt --cv $(MODEL_WORK)/cv-$(word 1,$(subst :, ,$(r))))

comma := ,

clean:
	rm -rf $(VENV) .pytest_cache
