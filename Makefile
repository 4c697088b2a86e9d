# Two commands for a newcomer: `make run` and `make test`. Everything else is set-up they call.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
EMBEDDED := $(PY) -m clinic.embedded
# The suite runs in one process per core, at most 8 (pytest-xdist; each takes a Redis database of
# the 16 a server has: tests/xdist_redis.py); TEST_PROCESSES=0 runs it in this one.
TEST_PROCESSES ?= auto

.PHONY: run test bench lint typecheck vendor system-packages messages makemessages check-deploy totp

# The virtualenv is rebuilt when a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV) || { $(SUDO) apt-get update -q \
	  && $(SUDO) apt-get install -y -q python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	@touch $@

# Debian packages the build needs: gettext (compilemessages), Chromium (the browser tests), nginx
# (the proxy tests put it in front of gunicorn as compose does), pango (WeasyPrint draws the
# paperwork's PDFs with it: docs/paperwork.md#documents);
# each installed once if missing.
system-packages:
	@command -v msgfmt >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q gettext; }
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q nginx; }
	@ldconfig -p | grep -q libpangoft2-1.0 || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q libpango-1.0-0 libpangoft2-1.0-0; }

# Settings need these to load; compilemessages and makemessages never use them.
NO_SERVERS := DATABASE_URL=postgres://x@localhost/x REDIS_URL=redis://localhost:6379/0 SECRET_KEY=x
I18N_IGNORE := --ignore=.venv --ignore=node_modules --ignore=static/vendor --ignore=.local --ignore=tests --ignore=bench

# The translations (locale/*/LC_MESSAGES/django.po, committed) compiled into .mo files (not).
messages: $(VENV)/.installed system-packages
	$(NO_SERVERS) $(PY) manage.py compilemessages $(I18N_IGNORE)

# After marking new strings: update the catalogue, then translate its new entries (and resolve
# the ones makemessages guessed, marked fuzzy); tests/test_catalogue.py checks both.
makemessages: $(VENV)/.installed system-packages
	$(NO_SERVERS) $(PY) manage.py makemessages -l es --no-obsolete $(I18N_IGNORE)

run: $(VENV)/.installed system-packages messages
	$(EMBEDDED) --profile run -- $(PY) -m clinic.devstack

test: $(VENV)/.installed system-packages messages
	$(EMBEDDED) --profile test -- $(PY) -m pytest -n $(TEST_PROCESSES) --maxprocesses 8 --dist loadfile $(PYTEST_ARGS)

# The current second-step code of the demo staff accounts.
totp: $(VENV)/.installed
	@$(PY) -m accounts.totp

# Every benchmark; figures in bench/results/latest.json (see the README's table).
bench: $(VENV)/.installed
	$(EMBEDDED) --profile bench -- $(PY) -m bench

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo

# mypy with django-stubs; the plugin imports the settings, which need these set (never used).
typecheck: $(VENV)/.installed
	DATABASE_URL=postgres://x@localhost/x REDIS_URL=redis://localhost:6379/0 SECRET_KEY=x \
	  $(VENV)/bin/mypy .

# Copy the npm-installed front-end libraries into static/vendor/ (the copies are committed).
vendor:
	npm install --no-audit --no-fund
	mkdir -p static/vendor/bootstrap static/vendor/axe-core static/vendor/chart.js
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map static/vendor/bootstrap/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map static/vendor/bootstrap/
	cp node_modules/bootstrap/LICENSE static/vendor/bootstrap/
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE static/vendor/axe-core/
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map node_modules/chart.js/LICENSE.md static/vendor/chart.js/
