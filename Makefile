# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-8)
export LIFELINE_DATA_DIR ?= $(CURDIR)/var
PYTEST_ARGS ?=

.PHONY: install system-deps messages demo serve test lint typecheck test-sqlite test-postgres bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || "$$(scripts/find-python)" -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# Debian packages the product needs: gettext (catalogues), xmlsec1 (SAML signatures),
# Chromium (browser tests), fonts-wqy-microhei (a TrueType Chinese font that PDFs embed), wrk (load benchmarks).
system-deps:
	@missing=""; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	command -v xmlsec1 >/dev/null || missing="$$missing xmlsec1"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	test -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || missing="$$missing fonts-wqy-microhei"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

messages: install system-deps
	cd lifeline && ../$(BIN)/lifeline compilemessages -v 0

# The demo serves with DEBUG off, so it needs real secrets: generated once under var/keys/
# (mode 600) and kept; stored secrets written under the old public default are re-encrypted.
DEMO_KEYS := $(LIFELINE_DATA_DIR)/keys
DEMO_ENV = LIFELINE_SECRET_KEY_FILE=$(DEMO_KEYS)/secret_key \
	LIFELINE_FIELD_KEY_FILE=$(DEMO_KEYS)/field_key \
	LIFELINE_LOG_USER_KEY_FILE=$(DEMO_KEYS)/log_user_key \
	LIFELINE_SIGNING_KEY_FILE=$(DEMO_KEYS)/signing_key

demo: messages
	@mkdir -p $(LIFELINE_DATA_DIR)
	@$(BIN)/python -m lifeline.core.keyfiles $(DEMO_KEYS) >/dev/null
	$(DEMO_ENV) $(BIN)/lifeline migrate -v 0
	-$(DEMO_ENV) LIFELINE_FIELD_OLD_KEYS=insecure-dev-key-change-me-in-production-0123456789 \
	  $(BIN)/lifeline rotate-keys >/dev/null
	$(DEMO_ENV) LIFELINE_DEMO=1 $(BIN)/lifeline loaddemo
	$(DEMO_ENV) LIFELINE_DEMO=1 LIFELINE_DEBUG=$${LIFELINE_DEBUG:-0} $(BIN)/lifeline serve

lint: install
	$(BIN)/ruff check lifeline bench
	$(BIN)/ruff format --check lifeline bench

typecheck: install
	$(BIN)/mypy lifeline

test-sqlite: messages
	env -u LIFELINE_TEST_DATABASE_URL -u LIFELINE_DATABASE_URL $(BIN)/pytest -n 2 $(PYTEST_ARGS)

test-postgres: messages
	@if [ -n "$$LIFELINE_TEST_DATABASE_URL" ]; then \
	  echo "== the same suite on PostgreSQL ($${LIFELINE_TEST_DATABASE_URL%%@*}@…)"; \
	  $(BIN)/pytest -n 2 -m "not browser" $(PYTEST_ARGS); \
	else echo "LIFELINE_TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

test: messages lint typecheck
	@mkdir -p $(LIFELINE_DATA_DIR)
	$(BIN)/lifeline makemigrations --check --dry-run -v 0
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

bench: messages
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
