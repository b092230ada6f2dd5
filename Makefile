# iaxadmin: `make run` (set up and serve the demo), `make test` (the whole suite) and `make serve`
# (production: settings from the environment; README.md, "Running in production").
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The local encryption key (IAXADMIN_ENCRYPTION_KEY): generated once, never overwritten (losing it
# loses every secret in db.sqlite3). Production sets IAXADMIN_ENCRYPTION_KEY(_FILE) itself.
KEY_FILE := .local/encryption.key
# The local SECRET_KEY (sessions, CSRF): one per checkout, generated once; never a fixed string.
SECRET_FILE := .local/secret.key
LOCAL_ENV := DEBUG=1 IAXADMIN_ENCRYPTION_KEY_FILE=$(KEY_FILE) SECRET_KEY_FILE=$(SECRET_FILE)

.PHONY: run test install install-prod migrate demo serve release lint bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# production: the runtime dependencies only (a development venv from `make install` has them too)
PROD_STAMP := $(VENV)/.installed-prod
$(PROD_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(PROD_STAMP)

install-prod: $(PROD_STAMP)

$(KEY_FILE): | $(STAMP)
	mkdir -p $(dir $@)
	test -e $@ || (umask 077 && $(PY) -c 'from peers.security.crypto import generate_key; print(generate_key())' > $@.tmp && mv $@.tmp $@)
	chmod 600 $@

$(SECRET_FILE): | $(STAMP)
	mkdir -p $(dir $@)
	test -e $@ || (umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@.tmp && mv $@.tmp $@)
	chmod 600 $@

migrate: install $(KEY_FILE) $(SECRET_FILE)
	$(LOCAL_ENV) $(PY) manage.py migrate --noinput

demo: migrate
	$(LOCAL_ENV) $(PY) manage.py iax_demo

run: demo
	$(LOCAL_ENV) $(PY) manage.py runserver 127.0.0.1:8000

# Production, every setting from the environment (DATABASE_URL, SECRET_KEY, ALLOWED_HOSTS,
# IAXADMIN_ENCRYPTION_KEY, ...; DEBUG stays off). `release` is the once-per-release database step.
# `serve` refuses on any `check --deploy` error before it touches the database, runs `release`,
# collects the static files and starts gunicorn with deploy/gunicorn.conf.py.
release: install-prod
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

serve: install-prod
	$(PY) manage.py check --deploy --fail-level ERROR
	$(MAKE) --no-print-directory release
	$(PY) manage.py collectstatic --noinput --verbosity 0
	exec $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fuzz: install
	HYPOTHESIS_PROFILE=long $(PY) -m pytest tests/iaxconf/test_hostile.py tests/iaxconf/test_parse.py -q

bench: install
	$(PY) bench/export.py --peers 10000

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .ruff_cache .hypothesis
