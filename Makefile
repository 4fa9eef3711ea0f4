# One task runner for people and CI. `make demo` and `make test` are the two commands the README gives.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test venv sysdeps lint bench clean i18n

# System packages, installed through apt only when missing (needs root, as on CI and the dev machines):
#   chromium          headless browser for the web UI tests (driven by Playwright with executable_path)
#   libicu-dev, pkg-config   build PyICU, which rigour/normality use to transliterate names
#   poppler-utils     pdftoppm, to look at generated PDFs in tests
#   fonts-noto-core   Arabic-script and Cyrillic fonts embedded into PDF reports at build time
SYSPKGS := chromium libicu-dev pkg-config poppler-utils
sysdeps:
	@missing=""; for p in $(SYSPKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

venv: sysdeps $(STAMP)

demo: venv
	$(BIN)/accord --data ./var demo

# The whole suite; -n 2 matches the two cores of the dev and CI machines.
test: venv
	$(BIN)/python -m pytest -n 2 -q

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: venv
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) var test-artifacts

# Web page translations: re-extract the strings, merge them into the five catalogs, compile the .mo files (which
# are committed, so installs need no build step). tests/web/test_i18n.py fails on any untranslated string.
WEBI18N := src/accord/http/web/translations
i18n: venv
	$(BIN)/pybabel extract -F babel.cfg -k tr:2 --no-location --sort-output --omit-header -o $(WEBI18N)/messages.pot .
	$(BIN)/pybabel update -i $(WEBI18N)/messages.pot -d $(WEBI18N) --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(WEBI18N) --statistics
