# Producer Lab — the two commands a newcomer needs:
#   make run    set up .venv, migrate, load the courseware, start the worker and serve on
#               http://127.0.0.1:8000
#   make test   the same set-up, then every test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run dev worker test setup migrate courseware static lint bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed migrate courseware static

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --noinput

courseware: migrate
	$(PY) manage.py load_courseware

# Collected files are what whitenoise serves when DJANGO_DEBUG=0; in debug it reads static/ directly.
static: $(VENV)/.installed
	$(PY) manage.py collectstatic --noinput -v 0

# DEBUG off, the install's own secret key (.secret_key, made once by setup, git-ignored).
run: setup
	@echo ""
	@echo "  Producer Lab is starting on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	@echo ""
	@# The worker runs replays, grading and measurements (never daphne); it stops with daphne.
	@DJANGO_DEBUG=0 $(PY) manage.py worker --verbosity 0 & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  DJANGO_DEBUG=0 $(VENV)/bin/daphne -b $(HOST) -p $(PORT) courseware.asgi:application

# The same with DEBUG on: tracebacks and the URL list on 404s. Never for a class.
dev: setup
	@DJANGO_DEBUG=1 $(PY) manage.py worker --verbosity 0 & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  DJANGO_DEBUG=1 $(VENV)/bin/daphne -b $(HOST) -p $(PORT) courseware.asgi:application

# The background worker alone (make run starts one beside daphne).
worker: setup
	$(PY) manage.py worker

# Browser tests fail (not skip) without Chromium unless REQUIRE_BROWSER=0 is given.
test: setup
	REQUIRE_BROWSER=$${REQUIRE_BROWSER:-1} $(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check producer_core courseware tests bench

bench: $(VENV)/.installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) db.sqlite3 .staticfiles tests/artifacts
