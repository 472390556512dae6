# poselab: `make report` regenerates every figure and table; `make test` runs the tests.
# PROFILE=smoke|default|full (default: default).  NB="01 03" picks notebooks.  LIMIT_STEPS=N stops every
# training run after N steps (e.g. `make report PROFILE=full LIMIT_STEPS=20` runs the full-size code in minutes).
# GPUS=N trains every 2D run on N GPUs with torchrun (DistributedDataParallel).  VERIFY=1: `make data` hashes every
# file of the synthetic sets again, whatever its modification time.

PROFILE ?= default
NB ?=
LIMIT_STEPS ?=
GPUS ?=
RUN_ENV := $(if $(GPUS),POSELAB_GPUS=$(GPUS))
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.poselab-installed
# one pytest worker per core; a file's tests (and its module fixtures) on one worker
PYTEST := $(PY) -m pytest -n auto --dist loadfile

.PHONY: setup data notebooks report check-full gpu-check html test test-fast bench lab lint clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name poselab --display-name "Python (poselab)" >/dev/null
	@touch $(STAMP)

setup: $(STAMP)  ## the virtual environment, with a Jupyter kernel named "poselab"

data: setup  ## generate the profile's synthetic sets; verify the real ones present
	$(PY) -m poselab.data --profile $(PROFILE) $(if $(VERIFY),--verify)

notebooks: data  ## execute the out-of-date notebooks (and those upstream of them)
	$(RUN_ENV) $(PY) -m poselab.run --profile $(PROFILE) --no-html $(if $(NB),--notebooks $(NB)) $(if $(LIMIT_STEPS),--limit-steps $(LIMIT_STEPS))

report: data  ## notebooks + HTML report in reports/html/index.html
	$(RUN_ENV) $(PY) -m poselab.run --profile $(PROFILE) $(if $(NB),--notebooks $(NB)) $(if $(LIMIT_STEPS),--limit-steps $(LIMIT_STEPS))

check-full: setup  ## every notebook's full-size code path with capped counts, on fixtures in the real layouts
	$(PY) -m poselab.check_full $(if $(FORCE),--force)

gpu-check:  ## on a GPU machine (after `source .gpu/gpu-env.sh`, no venv needed): speeds, projection, check-full, report
	$(if $(wildcard $(PY)),$(PY),python3) -m poselab.gpu_check $(if $(DEVICE),--device $(DEVICE))

html: setup  ## re-export the HTML report from the executed notebooks
	$(PY) -m poselab.reporting.html

test: setup  ## every test, the notebooks executed end to end on the smoke profile included (one worker per core)
	$(PYTEST)

test-fast: setup  ## the unit tests only: no notebook is executed
	$(PYTEST) -m "not notebook"

bench: setup  ## speed measurements, written to reports/bench/bench.csv
	$(PY) -m poselab.bench --out reports/bench/bench.csv $(if $(BENCH),--only $(BENCH))

lab: setup  ## JupyterLab on the project's kernel
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

lint: setup  ## ruff over the package, the tests and the notebooks
	$(VENV)/bin/ruff check lib tests notebooks

clean:  ## remove generated reports and synthetic data (real data sets are kept)
	rm -rf reports data/synthetic
