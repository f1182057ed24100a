# The two commands: `make run` (set up from nothing, run with demo data) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint fuzz install migrate demo serve worker beat diagram bench-quick clean axe

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,s3]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

# The demo accounts are printed last, by run_all, once the servers answer; the servers' logs and
# the console e-mail go to files under var/log/.
run: migrate
	$(PY) manage.py load_demo --no-accounts
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py run_all --host $(HOST) --port $(PORT)

# axe-core for the accessibility test of the applicants' pages (tests/test_portal_browser.py),
# from npm into ./node_modules; without npm that test is skipped and says why.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $(AXE); \
	else echo "npm not found: the accessibility test of the applicants' pages will be skipped"; fi

axe: $(AXE)

test: install axe
	$(PY) -m pytest -q -p no:cacheprovider

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

# Explore the API with new random examples (the suite's fuzz runs are derandomized).
fuzz: install
	FUZZ_RANDOM=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_api_schema.py tests/test_api_fuzz_all.py

worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO

# The lifecycle diagram (needs Graphviz's `dot`). Left out to keep it legible: `withdraw`
# (from every open state to closed) and `extend` / `set_later_reply_date` (keep the state).
diagram: install
	$(PY) manage.py graph_transitions -e withdraw,extend,set_later_reply_date -o docs/transitions.svg requests_app.Case
	$(PY) manage.py graph_transitions -e withdraw,extend,set_later_reply_date -o docs/transitions.png requests_app.Case
	rm -f docs/transitions
	@echo "wrote docs/transitions.svg and docs/transitions.png"

clean:
	rm -rf var staticfiles
