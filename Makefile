# The two commands of the README: `make run` and `make test`.
# Each sets up everything it needs (virtual environment, packages, database).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The interop tests' other environments (tests/interop): Qlik's Python SDK in
# its own venv, Qlik's @qlik/api from npm.
QLIK_SDK_VENV := .venv-qlik-sdk
NODE_PROJECT := tests/interop/node
PORT ?= 8000
export PORT

.PHONY: run test lint check-deploy messages messages-check db-outage-check scale-out-check bench soak wrk clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed-app

# qlik-sdk pins requests and PyJWT below what the server runs with, so it
# gets a venv of its own; made anew whenever its requirements change.
$(QLIK_SDK_VENV)/.installed: tests/interop/drivers/qlik_sdk_requirements.txt
	rm -rf $(QLIK_SDK_VENV)
	$(PYTHON) -m venv $(QLIK_SDK_VENV)
	$(QLIK_SDK_VENV)/bin/python -m pip install --quiet -r $<
	@touch $@

# @qlik/api, exactly as package-lock.json has it. Without npm the tests that
# use it skip and say why (under CI a skip fails).
$(NODE_PROJECT)/node_modules/.installed: $(NODE_PROJECT)/package.json $(NODE_PROJECT)/package-lock.json
	@if command -v npm >/dev/null; then \
		echo "cd $(NODE_PROJECT) && npm ci"; \
		cd $(NODE_PROJECT) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm not found: the @qlik/api interop tests will be skipped (Debian: apt-get install nodejs npm)"; \
	fi

## run: set up and serve the app on http://acme.eu.localhost:$(PORT)/ (SQLite unless DATABASE_URL is set)
run: export DEBUG ?= 1
run: export PLATFORM_PORT ?= $(PORT)
run: $(VENV)/.installed-app
	$(BIN)/python manage.py generate_signing_key --if-missing $${SIGNING_KEY_FILE:-var/signing-key.pem}
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  Open  http://acme.eu.localhost:$(PORT)/console/"
	@echo "  Sign in as admin@acme.test / demo-password"
	@echo "  (also user@acme.test, admin@globex.test at globex.eu.localhost, admin@initech.test at initech.us.localhost)"
	@echo
	exec $(BIN)/gunicorn -c config/gunicorn.conf.py config.wsgi --bind 127.0.0.1:$(PORT) --workers 2

## test: set up and run the whole test suite (SQLite unless DATABASE_URL is set)
test: $(VENV)/.installed-test $(QLIK_SDK_VENV)/.installed $(NODE_PROJECT)/node_modules/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

## check-deploy: Django's deployment checks with production-like settings
check-deploy: $(VENV)/.installed-app
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	DEBUG=1 $(BIN)/python manage.py generate_signing_key "$$dir/key.pem" >/dev/null && \
	DEBUG=0 SECRET_KEY=check-deploy-$$(date +%s)-not-a-real-secret-key-0123456789abcdef \
	CLIENT_SECRET_DIGEST_KEY=check-deploy-digest-key PLATFORM_DOMAIN=example.com \
	SIGNING_KEY_FILE="$$dir/key.pem" \
	SECURE_HSTS_SECONDS=31536000 SECURE_HSTS_INCLUDE_SUBDOMAINS=1 SECURE_HSTS_PRELOAD=1 \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

## db-outage-check: stop PostgreSQL under traffic; expect fast 503s and recovery (needs root)
db-outage-check: $(VENV)/.installed-app
	$(BIN)/python bench/db_outage.py

## scale-out-check: two instances on one PostgreSQL and Redis share codes, revocations, limits
scale-out-check: $(VENV)/.installed-test
	$(BIN)/python bench/scale_out.py

## bench: the benchmark suite against PostgreSQL (bench/README.md), e.g. BENCH_ARGS="--scale 10"
bench: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bench
bench: $(VENV)/.installed-app wrk
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## soak: 60 s at 64 connections on 2 workers: failures, p99, memory growth, database connections
## (PostgreSQL and wrk, like bench; not part of CI), e.g. SOAK_ARGS="--duration 300"
soak: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bench
soak: $(VENV)/.installed-app wrk
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

wrk:
	@command -v wrk >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing wrk (apt-get)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else \
			echo "bench and soak need wrk: sudo apt-get install wrk (Debian, Ubuntu), brew install wrk (macOS)"; \
			exit 1; \
		fi; }

## messages: update the Dutch catalogue from the source and compile it
messages: export DEBUG ?= 1
messages: $(VENV)/.installed-app
	$(BIN)/python manage.py makemessages --locale nl --no-location --no-obsolete \
		--ignore '.venv/*' --ignore 'tests/*' --ignore 'staticfiles/*' --ignore 'examples/*' --ignore 'bench/*'
	$(BIN)/python manage.py compilemessages --locale nl --ignore '.venv/*'

## messages-check: fail if the committed catalogues are not current or not fully translated
messages-check: messages
	git diff --exit-code -I '^"POT-Creation-Date:' -- locale/
	@! msgfmt --statistics -o /dev/null locale/nl/LC_MESSAGES/django.po 2>&1 | grep -E 'untranslated|fuzzy'

clean:
	rm -rf $(VENV) $(QLIK_SDK_VENV) $(NODE_PROJECT)/node_modules var staticfiles
