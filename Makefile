# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test venv bench lint clean

run: $(STAMP)
	$(BIN)/cwsync run $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

lint: $(STAMP)
	$(BIN)/cfn-lint infra/template.yaml

venv: $(STAMP)

$(STAMP): pyproject.toml scripts/bootstrap
	$(PYTHON) scripts/bootstrap
	@touch $(STAMP)

clean:
	rm -rf $(VENV) .cwsync .pytest_cache
