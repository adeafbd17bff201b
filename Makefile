# The two commands: `make demo` and `make test` (`make app` starts the web app). Both create .venv and install
# everything on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.fsvid2vid-installed
DEMO_OUT ?= outputs/demo

.PHONY: demo test lint install app clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock requirements-real.lock requirements-ui.lock scripts/install.sh
	VENV=$(VENV) bash scripts/install.sh
	touch $(STAMP)

demo: $(STAMP)
	DEMO_OUT=$(DEMO_OUT) PY=$(PY) bash scripts/demo.sh

app: $(STAMP)
	$(PY) -m fsvid2vid app

lint: $(STAMP)
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest -q

clean-venv:
	rm -rf $(VENV)
