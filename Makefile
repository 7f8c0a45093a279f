# The two commands a newcomer needs: `make run` and `make test`. Only Python 3.11+ and make required.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export WEB_HOST ?= 127.0.0.1
export WEB_PORT ?= 8000
export SIMULATOR_PORT ?= 8001
export SIMULATOR_KEY ?= demo-simulator-key
export GATEWAYS_PORT ?= 8002

.PHONY: install run test lint format messages clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

.env:
	cp .env.example .env

run: install .env
	@mkdir -p var/static
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --simulator-url http://127.0.0.1:$(SIMULATOR_PORT)/api/v2 --simulator-key $(SIMULATOR_KEY)
	@echo ""
	@echo "  Reseller is starting at http://$(WEB_HOST):$(WEB_PORT)/  (admin: http://$(WEB_HOST):$(WEB_PORT)/admin/)"
	@echo "  Logins: admin / admin (staff), demo / demo (customer). Ctrl-C stops everything."
	@echo "  Add funds by card, VietQR or bank transfer: fake gateways at http://127.0.0.1:$(GATEWAYS_PORT)/"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python tools/lint_rules.py

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# After changing customer-facing strings: extract them into locale/vi/LC_MESSAGES/django.po, translate the
# new entries there, then compile. Needs GNU gettext (apt-get install gettext); `make test` checks both.
messages: install
	DEBUG=true $(BIN)/python manage.py makemessages -l vi --no-location --ignore='tools/*' --ignore='tests/*'
	DEBUG=true $(BIN)/python manage.py compilemessages -l vi --ignore='.venv'

clean:
	rm -rf $(VENV) var .pytest_cache
