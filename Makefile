# Two entry points: `make run` and `make test`. Everything else is set-up they share.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test migrate openapi bench clean

$(STAMP): pyproject.toml requirements.lock
	@echo "==> creating virtual environment in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing pinned dependencies (requirements.lock)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	@$(BIN)/gatehouse serve --demo-if-empty

test: $(STAMP)
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

migrate: $(STAMP)
	@$(BIN)/gatehouse migrate

openapi: $(STAMP)
	@$(BIN)/gatehouse openapi --output openapi.yaml

bench: $(STAMP)
	@$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .gatehouse .pytest_cache
