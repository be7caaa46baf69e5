# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install system-deps run test test-postgres lint bench-ocr bench-throughput bench-chaos bench-faults bench-job-cost bench-job-instructions clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh

install: system-deps $(STAMP)

run: install
	bash scripts/run.sh

test: install
	$(PY) -m pytest

test-postgres: install
	bash scripts/test-postgres.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_DEBUG=1 $(VENV)/bin/mypy ocr_providers kyc/services kyc/workflow.py  # the stubs plugin loads dev settings

bench-ocr: install
	$(PY) bench/ocr_accuracy.py --count 20

bench-throughput: install
	$(PY) bench/pipeline_throughput.py

bench-chaos: install
	$(PY) bench/pipeline_chaos.py

bench-faults: install
	$(PY) bench/pipeline_faults.py

bench-job-cost: install
	$(PY) bench/pipeline_job_cost.py

bench-job-instructions: install
	$(PY) bench/pipeline_job_instructions.py

clean:
	rm -rf $(VENV) var
