# Every target installs the hashed toolchain into .venv on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.txt | cut -c1-16)
# The bytecode compiler (pyodide) and any other Node.js tool, from package-lock.json.
NODE_STAMP := node_modules/.installed-$(shell sha256sum package-lock.json | cut -c1-16)
TEMPLATE := build/template.yaml
EXPANDED := build/template.expanded.json
BOOTSTRAP := build/bootstrap.yaml
# What the expansion and the policies are made from, besides the template: the generator's
# code and spec, and the locked tools and data (samtranslator, cfn-lint's schemas, iam-data).
DERIVED_FROM := $(wildcard template_gen/*.py) $(STAMP) $(NODE_STAMP)
# Every emulator the tests start records its authorization decisions here.
AUDIT := build/audit
PYTEST_ARGS ?=
# make test runs the test files on this many processes (pytest-xdist), each file whole.
WORKERS ?= 2
PORT ?= 3000
EMULATOR_PORT ?= 5000
ALLOWED_ORIGINS ?= http://localhost:5173
FUNCTION ?= users
# Deploy-side targets take both from the command line; none has a default, so nothing lands
# in an account or region nobody named.
REGION ?=
REGIONS ?=
ENV ?=
EVENT ?= events/users/list.json
# make fuzz: examples per operation; `make test` runs a bounded 20 with a fixed seed.
EXAMPLES ?= 200
SEED ?=
# make differential: cases against the reference IAM evaluator; `make test` runs 2,000.
CASES ?= 50000
FORMAT ?= table
PIP_COMPILE = $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

.PHONY: help install chromium lock build lint scan typecheck pre-commit test differential local emulator token fuzz web invoke policies bootstrap deploy deploy-all params drift destroy outputs logs unit integration events snapshot bench readme try-adding-a-function clean

help: ## List the targets, each with the variables it reads and their defaults
	@$(PYTHON) tools/make_help.py --make "$(MAKE)" $(MAKEFILE_LIST)

# Each stamp's name carries its lock's hash, so a changed lock is a missing stamp. No mtime
# prerequisite: a checkout or a copy of the project with a newer lock file would run npm ci,
# which empties node_modules first, and a copy shares node_modules and .venv by symlink.
$(STAMP):
	@echo "installing the toolchain into $(VENV) (requirements.txt, hashes required)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# The lock is closed over every dependency, so --no-deps installs exactly it.
	@$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.txt
	@$(PY) -m pip check >/dev/null
	@rm -f $(VENV)/.installed-* && touch $@

$(NODE_STAMP):
	@command -v npm >/dev/null || { echo "npm is needed for the bytecode compiler: install Node.js and npm (Debian: apt-get install nodejs npm), then run make again" >&2; exit 1; }
	@echo "installing the Node.js tools into node_modules (package-lock.json, integrity checked)"
	@npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@rm -f node_modules/.installed-* && touch $@

# The browser tests drive Debian's chromium (tests/e2e/test_browser.py): installed when missing,
# as root or through sudo; anywhere else, one line says how.
chromium: ## Debian's chromium for the browser tests, installed with apt-get when missing (as root, or with sudo)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; \
	  else echo "chromium is needed for the browser tests: run \`apt-get install chromium\` as root, then make again" >&2; exit 1; fi; \
	  command -v apt-get >/dev/null || { echo "chromium is needed for the browser tests: install it with your system's package manager, then make again" >&2; exit 1; }; \
	  echo "installing chromium (Debian) for the browser tests"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

install: $(STAMP) $(NODE_STAMP) chromium ## Create .venv and node_modules from the hashed locks, and install Debian's chromium when missing

lock: $(STAMP) ## Recompile requirements.in and layers/deps/requirements.in into hashed locks
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file layers/deps/requirements.txt layers/deps/requirements.in

build: $(STAMP) $(NODE_STAMP) ## Content-hashed zips with 3.14 bytecode, manifest, template, OpenAPI
	@$(PY) build.py

typecheck: $(STAMP) ## mypy on every package; each function folder on its own, with the shared layer
	@echo "mypy (pyproject.toml's files, then each function folder)"
	@$(PY) -m mypy
	@for function in functions/*/; do MYPYPATH=layers/shared/python:$$function $(PY) -m mypy "$$function"; done

lint: build typecheck ## ruff, mypy, the CI workflow's schema, cfn-lint, cdk-nag and cfn-guard on every rendered template
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	@echo "cfn-lint $(TEMPLATE)"
	@$(VENV)/bin/cfn-lint $(TEMPLATE)
	@$(MAKE) --no-print-directory -s $(BOOTSTRAP)
	@echo "cfn-lint -a cfn_lint_serverless.rules $(EXPANDED)"
	@$(VENV)/bin/cfn-lint -a cfn_lint_serverless.rules -- $(EXPANDED)
	@echo "cfn-lint $(BOOTSTRAP)"
	@$(VENV)/bin/cfn-lint $(BOOTSTRAP)
	@$(PY) -m tools.scan --json build/scan.json $(EXPANDED) $(BOOTSTRAP)
	@$(PY) -m template_gen diagram --check
	@echo "lint: no findings"

scan: policies ## cdk-nag (AwsSolutions, Serverless, NIST 800-53 R5, HIPAA) and cfn-guard on every rendered template; build/scan.json
	@$(PY) -m tools.scan --json build/scan.json $(EXPANDED) $(BOOTSTRAP)

pre-commit: $(STAMP) ## Every pre-commit hook on every file, as `pre-commit install` runs them on a commit
	@$(VENV)/bin/pre-commit run --all-files

local: policies ## The whole stack on 127.0.0.1:$(PORT), emulator on $(EMULATOR_PORT); its state kept in build/local (FRESH=1 drops it); WATCH=1 pushes saved code
	@$(PY) -m offline serve --port $(PORT) --emulator-port $(EMULATOR_PORT) --origins "$(ALLOWED_ORIGINS)" --environment $(or $(ENV),dev) $(if $(NO_ENFORCEMENT),--no-enforcement,) $(if $(WATCH),--watch,) $(if $(FRESH),--fresh,)

emulator: $(STAMP) $(NODE_STAMP) ## The local AWS emulator alone on 127.0.0.1:$(EMULATOR_PORT), in the foreground
	@$(PY) -m offline emulator --port $(EMULATOR_PORT) $(if $(NO_ENFORCEMENT),--no-enforcement,)

token: $(STAMP) ## While make local runs: USER's access token from the local pool, printed last
	@$(PY) -m offline token "$(USER)"

fuzz: $(STAMP) ## While make local runs: schemathesis, every check, EXAMPLES=200 per operation [SEED=..]
	@$(PY) -m offline fuzz --examples "$(EXAMPLES)" $(if $(SEED),--seed "$(SEED)",)

web: $(STAMP) $(NODE_STAMP) ## The example web client on http://localhost:5173 (examples/web): make local's stack and a USER to sign in as, or REGION=.. ENV=.. a deployed one
	@$(PY) -m tools.web_server --user "$(USER)" $(if $(REGION),--region "$(REGION)",) $(if $(ENV),--env "$(ENV)",)

invoke: build ## One invocation: make invoke FUNCTION=users EVENT=events/users/list.json
	@$(PY) -m offline invoke "$(FUNCTION)" "$(EVENT)"

policies: build ## build/bootstrap.yaml and its policies (build/deploy-policies/), derived from the template
	@$(MAKE) --no-print-directory -s $(BOOTSTRAP)

# Remade only when an input is newer: build.py leaves an unchanged template's mtime alone.
# The sub-make above reads the mtimes after `build` has run.
$(EXPANDED): $(TEMPLATE) $(DERIVED_FROM)
	@$(PY) -m template_gen expand
	@touch $@

$(BOOTSTRAP): $(EXPANDED) $(DERIVED_FROM)
	@$(PY) -m template_gen bootstrap
	@touch $@

bootstrap: policies ## As an administrator, once: execution role, boundary, deployer policy: REGION=.. ENV=..
	@$(PY) -m ops bootstrap --region "$(REGION)" --env "$(ENV)"

deploy: policies ## Preflight, import after a destroy, sam deploy: make deploy REGION=eu-west-1 ENV=dev
	@$(PY) -m ops deploy --region "$(REGION)" --env "$(ENV)"

deploy-all: build ## The same build to each region in order: make deploy-all REGIONS="a b" ENV=..
	+@$(PY) -m ops deploy-all --env "$(ENV)" --regions "$(REGIONS)" $(if $(CONTINUE),--keep-going,)

params: $(STAMP) ## Create the SecureStrings in REGION for ENV (ROTATE=1 replaces, FROM_STDIN=1 reads)
	@$(PY) -m ops params --region "$(REGION)" --env "$(ENV)" $(if $(ROTATE),--rotate,) $(if $(FROM_STDIN),--from-stdin,)

drift: $(STAMP) ## CloudFormation drift detection, as a table: make drift REGION=.. ENV=..
	@$(PY) -m ops drift --region "$(REGION)" --env "$(ENV)"

destroy: $(STAMP) ## Delete the stack after a typed confirmation; retained data stays: REGION=.. ENV=..
	@$(PY) -m ops destroy --region "$(REGION)" --env "$(ENV)"

outputs: $(STAMP) ## The stack's outputs (sam list stack-outputs): make outputs REGION=.. ENV=.. [FORMAT=json]
	@$(PY) -m ops outputs --region "$(REGION)" --env "$(ENV)" --format "$(FORMAT)"

logs: $(STAMP) ## Tail one function's logs (sam logs --tail): make logs FUNCTION=users REGION=.. ENV=..
	@$(PY) -m ops logs --region "$(REGION)" --env "$(ENV)" --function "$(FUNCTION)"

unit: build ## Unit tests only
	@$(PY) -m pytest tests/unit $(PYTEST_ARGS)

integration: build ## Integration tests only: the deploy commands against the emulator, the build
	@$(PY) -m pytest tests/integration $(PYTEST_ARGS)

test: lint chromium ## Install, build, lint, run every test, then prove least privilege (build/iam-report.md, build/deploy-iam-report.md)
	@rm -rf $(AUDIT)
	@OFFLINE_AUDIT_DIR=$(CURDIR)/$(AUDIT) $(PY) -m pytest -n $(WORKERS) --dist loadfile $(PYTEST_ARGS)
	@$(PY) -m offline.iam.report $(AUDIT) --out build/iam-report.md $(if $(PYTEST_ARGS),--partial,)
	@$(PY) -m offline.iam.deploy_report $(AUDIT) --out build/deploy-iam-report.md

try-adding-a-function: $(STAMP) $(NODE_STAMP) ## Follow docs/adding-a-function.md in a copy of the project, then run the copy's full make test
	@$(PY) -m tools.adding_a_function

differential: $(STAMP) $(NODE_STAMP) ## aws_semantics/policy.py against iam-simulate on CASES=50000 generated cases [SEED=..]
	@DIFFERENTIAL_CASES=$(CASES) $(if $(SEED),DIFFERENTIAL_SEED=$(SEED),) $(PY) -m pytest -q -p no:cacheprovider tests/reference

events: $(STAMP) ## Rewrite events/: the written cases, and an event for every other spec route
	@$(PY) -m tests.http_events
	@echo "events: $$(find events -name '*.json' | wc -l | tr -d ' ') files in events/"

snapshot: $(STAMP) ## Refresh the golden template snapshot after an intended change
	@UPDATE_SNAPSHOTS=1 $(PY) -m pytest -q tests/unit/test_snapshot.py

bench: build ## The performance suite: ratios against the named peers
	@for bench in benchmarks/bench_*.py; do $(PY) $$bench; done

readme: $(STAMP) ## Regenerate the architecture diagram in README.md
	@$(PY) -m template_gen diagram --write

clean: ## Remove build output and the virtualenv
	rm -rf build $(VENV) node_modules .pytest_cache .ruff_cache .mypy_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
