# ValueGate. `make demo` and `make test` are all a new user needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_INSTALL := $(PY) -m pip install --quiet --require-hashes
# Two stamps: the runtime set (demo, worker, production checks) and the development set (tests,
# lint, licence check), each remade when the requirements file it was installed from changes.
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
PIP_COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: translations demo demo-zh test venv venv-dev migrate seed serve lint typecheck licenses requirements worker beat bench clean messages

$(RUNTIME_STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements.txt
	touch $(RUNTIME_STAMP)

# requirements-dev.txt holds the runtime set too, at the same pins.
$(DEV_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $(DEV_STAMP)

# The translations (locale/<language>/LC_MESSAGES/django.po) compiled for Django; remade when a
# catalogue changes. msgfmt comes with GNU gettext.
CATALOGUES := $(wildcard locale/*/LC_MESSAGES/django.po)
COMPILED := $(CATALOGUES:.po=.mo)

$(COMPILED): %.mo: %.po
	@command -v msgfmt >/dev/null || { echo "msgfmt is missing: install GNU gettext (apt-get install gettext)"; exit 1; }
	msgfmt --check-format --output-file $@ $<

translations: $(COMPILED)

# After adding or changing user-visible text: extract every msgid into the catalogues, then
# translate the new entries (docs/glossary.zh-hans.md); `make test` fails while one is missing.
messages: venv-dev
	$(PY) manage.py makemessages --locale zh_Hans --no-obsolete --add-location file \
		--ignore .venv --ignore 'tests/*' --ignore 'bench/*' --ignore 'tools/*' --ignore 'docs/*' \
		--ignore 'staticfiles/*' --ignore 'media/*'

venv: $(RUNTIME_STAMP)

venv-dev: $(DEV_STAMP)

migrate: venv translations
	@test -n "$$VALUEGATE_LEDGER_SIGNING_KEY" -o -f ledger-signing.key || $(PY) manage.py ledger_keygen --output ledger-signing.key
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

demo: seed
	@echo ""
	@echo "ValueGate admin: http://$(HOST):$(PORT)/admin/"
	@$(PY) manage.py demo_logins
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

# The same demo in Simplified Chinese: Chinese texts and names, users who prefer zh-hans, business
# cases in CNY, and a server whose defaults are zh-hans, Asia/Shanghai and CNY (the dashboard's
# portfolio totals are in the default currency).
demo-zh: migrate
	LANGUAGE_CODE=zh-hans $(PY) manage.py seed_demo --language zh-hans
	@echo ""
	@echo "ValueGate admin: http://$(HOST):$(PORT)/admin/"
	@LANGUAGE_CODE=zh-hans $(PY) manage.py demo_logins
	@echo ""
	LANGUAGE_CODE=zh-hans VALUEGATE_TIME_ZONE=Asia/Shanghai VALUEGATE_DEFAULT_CURRENCY=CNY \
		$(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite, on the database DATABASE_URL names (SQLite by default).
test: venv-dev translations
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# The type hints of governance/, projects/ and config/, checked by mypy with the Django and REST
# framework plugins (configured in pyproject.toml).
typecheck: venv-dev
	$(VENV)/bin/mypy

# Every runtime dependency's licence must be compatible with Apache-2.0 (tools/check_licenses.py).
licenses: venv-dev
	$(PY) tools/check_licenses.py requirements.txt

# After editing requirements.in or requirements-dev.in: recompile both files, keeping every pin
# that still fits; `make requirements UPGRADE="--upgrade-package NAME"` moves one package.
requirements: venv-dev
	CUSTOM_COMPILE_COMMAND="make requirements" $(PIP_COMPILE) $(UPGRADE) --output-file requirements.txt requirements.in
	CUSTOM_COMPILE_COMMAND="make requirements" $(PIP_COMPILE) $(UPGRADE) --output-file requirements-dev.txt requirements-dev.in

worker: venv
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: venv
	$(VENV)/bin/celery -A config beat --loglevel=INFO --schedule=$(VENV)/celerybeat-schedule

bench: venv-dev
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) db.sqlite3 .test-db*.sqlite3* .pytest_cache .hypothesis .mypy_cache
