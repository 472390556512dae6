# poselab: `make report` regenerates every figure and table; `make test` runs the tests.
# PROFILE=smoke|default|full (default: default).  NB="01 03" picks notebooks.  LIMIT_STEPS=N stops every
# training run after N steps (e.g. `make report PROFILE=full LIMIT_STEPS=20` runs the full-size code in minutes).
# GPUS=N trains every 2D run on N GPUs with torchrun (DistributedDataParallel).  VERIFY=1: `make data` hashes every
# file of the synthetic sets again, whatever its modification time.  DEFAULT_KNOBS=1 runs every notebook with its
# committed knob values, whatever its parameters cell now says.

PROFILE ?= default
NB ?=
LIMIT_STEPS ?=
DEFAULT_KNOBS ?=
LAB_ARGS ?=
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

RUN_ARGS = --profile $(PROFILE) $(if $(NB),--notebooks $(NB)) $(if $(LIMIT_STEPS),--limit-steps $(LIMIT_STEPS)) \
	$(if $(DEFAULT_KNOBS),--default-knobs)

notebooks: data  ## execute the out-of-date notebooks (and those upstream of them)
	$(RUN_ENV) $(PY) -m poselab.report.run $(RUN_ARGS) --no-html

report: data  ## notebooks + HTML report in reports/html/index.html
	$(RUN_ENV) $(PY) -m poselab.report.run $(RUN_ARGS)

check-full: setup  ## every notebook's full-size code path with capped counts, on fixtures in the real layouts
	$(PY) -m poselab.tools.check_full $(if $(FORCE),--force)

gpu-check:  ## on a GPU machine (no venv needed; docs/measurements.md says what to carry): device, bench, check-full, default report
	$(if $(wildcard $(PY)),$(PY),python3) -m poselab.tools.gpu_check $(if $(DEVICE),--device $(DEVICE))

html: setup  ## re-export the HTML report from the executed notebooks
	$(PY) -m poselab.report.html

test: setup  ## every test, the notebooks executed end to end on the smoke profile included (one worker per core)
	$(PYTEST)

test-fast: setup  ## the unit tests only: no notebook is executed
	$(PYTEST) -m "not notebook"

bench: setup  ## training speed of each 2D model as a fraction of this machine's GEMM, into reports/bench/bench.csv
	$(PY) -m poselab.tools.bench --out reports/bench/bench.csv --profile $(PROFILE)

lab: setup  ## JupyterLab on the project's kernel (LAB_ARGS="--no-browser --port 8890" passes flags to it)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

lint: setup  ## ruff over the package, the tests and the notebooks; the notebooks hold no outputs
	$(VENV)/bin/ruff check lib tests notebooks
	@$(PY) -c "import json, pathlib, sys; bad = [str(p) for p in sorted(pathlib.Path('notebooks').glob('*.ipynb')) \
	  if any(c.get('outputs') or c.get('execution_count') for c in json.loads(p.read_text())['cells'])]; \
	  sys.exit('outputs saved in ' + ', '.join(bad) + ': jupyter nbconvert --clear-output --inplace them' if bad else 0)"

clean:  ## remove generated reports and synthetic data (real data sets are kept)
	rm -rf reports data/synthetic
