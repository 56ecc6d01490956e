# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEV := DJANGO_DEBUG=1

.PHONY: run install setup test lint typecheck format check-migrations messages compilemessages ci

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

# mypy with the Django and DRF plugins; strict on the Django-free modules (pyproject.toml).
typecheck: install
	EDC_TESTING=1 $(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-migrations: install
	$(DEV) $(PY) manage.py makemigrations --check --dry-run

# Extract the project's marked strings into locale/*/LC_MESSAGES/django.po (needs gettext's
# xgettext), then compile the .mo files that are committed beside them. docs/i18n.md says more.
messages: install
	$(DEV) $(PY) manage.py makemessages --locale zh_Hans --no-obsolete --ignore 'tests/*' --ignore 'fixtures/*' --ignore 'staticfiles/*' --ignore 'docs/*'
	$(MAKE) compilemessages

# Compile the .po catalogues into the committed .mo files (pure Python: no msgfmt needed).
compilemessages: install
	$(PY) -m edc.core.catalogue compile

ci:
	bash .ci/run
