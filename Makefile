# Every target bootstraps first (Debian packages + .venv, idempotent and quick when
# nothing changed), so a fresh Debian 12 machine needs nothing but make.
VENV := .venv
RUN_DATA ?= ./run-data
RUN_ARGS ?=

.PHONY: bootstrap run test lint bench

bootstrap:
	scripts/bootstrap.sh

run: bootstrap
	$(VENV)/bin/ccbox run --board sim --data $(RUN_DATA) $(RUN_ARGS)

test: bootstrap
	$(VENV)/bin/python -m pytest -q tests

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Benchmarks print figures; they never fail on timing.
bench: bootstrap
	@found=; for f in bench/*.py; do \
	  [ -e "$$f" ] || continue; found=1; \
	  echo "== $$f"; $(VENV)/bin/python "$$f" || exit $$?; \
	done; [ -n "$$found" ] || echo "no benchmarks in bench/ yet"
