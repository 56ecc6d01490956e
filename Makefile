# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEV := DJANGO_DEBUG=1

.PHONY: run install setup test lint format check-migrations ci

run: setup
	$(DEV) $(PY) manage.py runserver 127.0.0.1:8000

# Migrate, load the five trials and the CTCAE dictionary, print the demo login.
setup: install
	$(DEV) $(PY) manage.py migrate --noinput
	$(DEV) $(PY) manage.py load_studies
	$(DEV) $(PY) manage.py load_ctcae
	$(DEV) $(PY) manage.py demo_setup

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-migrations: install
	$(DEV) $(PY) manage.py makemigrations --check --dry-run

ci:
	bash .ci/run
