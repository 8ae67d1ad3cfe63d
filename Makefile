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

# Most tests wait on real peers and real time (a call, a prompt, a ring timeout) rather than
# on the CPU: two workers halve the wall time on a 2-core machine. The VM tier runs alone
# afterwards, because qemu's TCG takes both cores for two minutes.
test: bootstrap
	$(VENV)/bin/python -m pytest -q -n 2 --dist worksteal --ignore=tests/vm tests
	$(VENV)/bin/python -m pytest -q tests/vm

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Benchmarks print figures; they never fail on timing.
bench: bootstrap
	@found=; for f in bench/*.py; do \
	  [ -e "$$f" ] || continue; found=1; \
	  echo "== $$f"; $(VENV)/bin/python "$$f" || exit $$?; \
	done; [ -n "$$found" ] || echo "no benchmarks in bench/ yet"
