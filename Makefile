# The two commands a newcomer needs: `make run` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test unit integration e2e fuzz lint lint-template catalogs bench build clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml local/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,ml]' -e ./local
	touch $@

run: install
	$(BIN)/chatshop dev

test: install lint lint-template
	$(BIN)/python -m pytest

unit: install
	$(BIN)/python -m pytest tests/unit

integration: install
	$(BIN)/python -m pytest tests/integration

e2e: install
	$(BIN)/python -m pytest tests/e2e

# The contract fuzzer, longer than the run in `make test`: FUZZ_EXAMPLES per operation and phase.
FUZZ_EXAMPLES ?= 200
FUZZ_SEED ?= 1
fuzz: install
	$(BIN)/python -m tests.contract.fuzz --max-examples $(FUZZ_EXAMPLES) --seed $(FUZZ_SEED)

lint: install
	$(BIN)/ruff check layers functions local tests bench
	$(BIN)/python -m chatshop_local.catalogs check

# After adding or changing a sentence of the assistant: the catalogs' template and every language's
# catalog brought in step, the new entries left for translators (`make lint` fails until they are done).
catalogs: install
	$(BIN)/python -m chatshop_local.catalogs extract
	$(BIN)/python -m chatshop_local.catalogs update

lint-template: install
	# Linted as every home region deploys it: each evaluates the rollout's Deploys<Feature> conditions.
	$(BIN)/cfn-lint --regions $$($(BIN)/chatshop regions --names) -- template.yaml
	$(BIN)/hadolint functions/search/Dockerfile

bench: install
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/gateway_latency.py
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/catalog_api.py
	$(BIN)/python bench/messaging.py
	$(BIN)/python bench/assistant.py
	$(BIN)/python bench/orders.py
	$(BIN)/python bench/advice_quality.py
	$(BIN)/python bench/faq_threshold.py
	$(BIN)/python bench/webhook_relay.py
	$(BIN)/python bench/privacy_requests.py
	$(BIN)/python bench/ann.py
	$(BIN)/python bench/search_api.py
	$(BIN)/python bench/search_quality.py
	$(BIN)/python bench/search_cold_start.py
	$(BIN)/python bench/ads_events.py
	$(BIN)/python bench/ads_decisions.py
	$(BIN)/python bench/ads_pacing.py

build:
	sam build --use-container

clean:
	rm -rf $(VENV) .chatshop .pytest_cache .ruff_cache build
