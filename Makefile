# Two entry points: `make run` and `make test`. Everything else is set-up they share.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test fuzz migrate openapi bench bench-webhooks bench-import bench-sizing bench-redis-wait clean

# The service's own dependencies (requirements.lock) are all `make run` and the image install; the test tools
# (requirements-test.lock) come on top for `make test`.
$(STAMP): pyproject.toml requirements.lock
	@echo "==> creating virtual environment in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing the service's pinned dependencies (requirements.lock)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP) requirements-test.lock
	@echo "==> installing the pinned test tools (requirements-test.lock)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock -r requirements-test.lock
	@touch $(TEST_STAMP)

run: $(STAMP)
	@$(BIN)/gatehouse serve --demo-if-empty

# Static checks first, cheapest first, each stopping the run when it fails; then the test suite
# (tests/test_structure.py among it). Configuration for every tool is in pyproject.toml.
test: $(TEST_STAMP)
	@echo "==> ruff check"
	@$(BIN)/ruff check
	@echo "==> ruff format --check"
	@$(BIN)/ruff format --check
	@echo "==> mypy (strict, service/)"
	@$(BIN)/mypy
	@echo "==> lint-imports (layer contracts)"
	@$(BIN)/lint-imports --no-cache --no-logo
	@echo "==> pytest"
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

# The schema fuzz of the suite (tests/test_schema_fuzz.py) with a larger budget per operation; same seed.
FUZZ_EXAMPLES ?= 200
fuzz: $(TEST_STAMP)
	@echo "==> schemathesis: $(FUZZ_EXAMPLES) examples per operation"
	@GATEHOUSE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/test_schema_fuzz.py $(PYTEST_ARGS)

migrate: $(STAMP)
	@$(BIN)/gatehouse migrate

openapi: $(STAMP)
	@$(BIN)/gatehouse openapi --output openapi.yaml

bench: $(STAMP)
	@$(BIN)/python -m bench

bench-webhooks: $(STAMP)
	@$(BIN)/python -m bench.webhooks

bench-import: $(STAMP)
	@$(BIN)/python -m bench import

# The sizing guide: CPU, Redis commands, PostgreSQL statements and writes per operation, memory per session.
bench-sizing: $(STAMP)
	@$(BIN)/python -m bench sizing $(BENCH_ARGS)

# Starts its Sentinel topology with tests/redis_topologies.py: the test tools are needed.
bench-redis-wait: $(TEST_STAMP)
	@$(BIN)/python -m bench.redis_wait

clean:
	rm -rf $(VENV) .gatehouse .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
