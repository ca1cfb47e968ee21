# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Node tools for the card, manifest and end-to-end checks (tools/package.json).
NODE_TOOLS := tools/node_modules/.package-lock.json
# Debian's Chromium, driven by playwright-core; never a browser downloaded by a tool.
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint install clean tools teams-js chromium browser-tools e2e screenshots dashboard-screenshots bench wrk reliability playground haproxy cluster bench-replicas

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# teams-js for the dashboard's Teams tab pages (bot/dashboard/teams/), which Waypoint
# serves itself (never a CDN): npm ci from the package-lock.json there. Without Node
# the tab's pages say Teams' library did not load and point to the chat; the rest of
# Waypoint runs as before. CI must have it.
TEAMS_JS := bot/dashboard/teams/node_modules/.package-lock.json

$(TEAMS_JS): bot/dashboard/teams/package.json bot/dashboard/teams/package-lock.json
	cd bot/dashboard/teams && npm ci --no-audit --no-fund
	touch $(TEAMS_JS)

teams-js:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(TEAMS_JS); \
	elif [ -n "$$CI" ]; then \
		echo "make: CI needs npm for the dashboard tab's teams-js" >&2; exit 1; \
	else \
		echo "make: no npm: the dashboard's Teams tab will lack teams-js (install Node, then make install)"; \
	fi

install: $(STAMP) teams-js

run: $(STAMP) teams-js
	$(BIN)/waypoint db upgrade
	$(BIN)/waypoint demo --if-empty
	$(BIN)/waypoint serve

# The Microsoft 365 Agents Playground as the demo user in ROLE (trust_lead, sia, head,
# coach, teacher, subject_lead, attendance_lead, governor), with `make run` in another
# terminal: writes .m365agentsplayground.yml for that role, then starts the version
# tools/package.json pins from the repository root, where it reads that file
# (tools/node_modules' copy when `make tools` installed it, else npx). It opens no
# browser: open the address it prints.
ROLE ?= head
PLAYGROUND_VERSION := $(shell sed -n 's/.*"@microsoft\/m365agentsplayground": *"\([^"]*\)".*/\1/p' tools/package.json)
PLAYGROUND_LOCAL := tools/node_modules/.bin/agentsplayground
PLAYGROUND_FLAGS := -c msteams -e http://127.0.0.1:3978/api/messages --disable-telemetry

playground: $(STAMP)
	$(BIN)/waypoint playground-config --role $(ROLE) --output .m365agentsplayground.yml
	@if [ -x $(PLAYGROUND_LOCAL) ]; then \
		echo "TEAMSAPPTESTER_BROWSER=none $(PLAYGROUND_LOCAL) $(PLAYGROUND_FLAGS)"; \
		TEAMSAPPTESTER_BROWSER=none $(PLAYGROUND_LOCAL) $(PLAYGROUND_FLAGS); \
	else \
		echo "TEAMSAPPTESTER_BROWSER=none npx @microsoft/m365agentsplayground@$(PLAYGROUND_VERSION) $(PLAYGROUND_FLAGS)"; \
		TEAMSAPPTESTER_BROWSER=none npx --yes @microsoft/m365agentsplayground@$(PLAYGROUND_VERSION) $(PLAYGROUND_FLAGS); \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest first (its card checks use Node and Chromium when they are here), then the
# end-to-end run in the Agents Playground. Under CI both are required; elsewhere a
# machine without Node or Chromium skips them and says so. Under CI pytest also runs
# the tests marked slow (the full reliability suite, `make reliability` elsewhere; and
# the cluster run, `make cluster`).
test: lint browser-tools teams-js
	$(BIN)/pytest -q -rs --durations=25
	@if [ -n "$$CI" ] || { command -v node >/dev/null 2>&1 && [ -x $(CHROMIUM) ]; }; then \
		$(MAKE) --no-print-directory e2e; \
	else \
		echo "make test: end-to-end run skipped: it needs node and $(CHROMIUM) (see make e2e)"; \
	fi

$(NODE_TOOLS): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund
	touch $(NODE_TOOLS)

tools: $(NODE_TOOLS)

# CI runs as root: it installs Debian's chromium when it is missing. Elsewhere this
# only says what to install.
chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ -n "$$CI" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "make: no $(CHROMIUM): install Debian's chromium (apt-get install chromium)" >&2; \
		exit 1; \
	fi

# What pytest's card checks (Chromium), benchmark smoke test (wrk) and cluster run
# (HAProxy) use, where it can be had: required under CI.
browser-tools:
	@if command -v node >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory tools; \
	elif [ -n "$$CI" ]; then \
		echo "make: CI needs node for the card and end-to-end checks" >&2; exit 1; \
	else \
		echo "make: no node: the card renderer checks will be skipped"; \
	fi
	@if [ -n "$$CI" ]; then $(MAKE) --no-print-directory chromium wrk haproxy; fi

e2e: $(STAMP) tools chromium
	WAYPOINT_E2E=1 $(BIN)/pytest -q -s tests/test_e2e.py

# The reliability suite in full, slow tests included (docs/RELIABILITY.md): what
# `make test` runs under CI. -s prints each run's figures.
reliability: $(STAMP)
	WAYPOINT_SLOW=1 $(BIN)/pytest -q -s tests/test_reliability_*.py

# The benchmarks (bench/README.md): a table on stdout, JSON in bench/results/latest.json.
# Not part of `make test`, which runs them at a tiny size (tests/test_bench_smoke.py).
bench: $(STAMP) wrk
	$(BIN)/python -m bench

# Debian's wrk drives the HTTP benchmarks. CI runs as root: it installs wrk when it is
# missing. Elsewhere this only says what to install.
wrk:
	@if command -v wrk >/dev/null 2>&1; then :; \
	elif [ -n "$$CI" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	else \
		echo "make: no wrk: install Debian's wrk (apt-get install wrk)" >&2; \
		exit 1; \
	fi

# Three replicas behind HAProxy on PostgreSQL, one killed and one stopped under load
# (tests/cluster.py, docs/DEPLOY.md): prints its figures, fails on anything lost or
# twice. About two minutes. `make test` runs it under CI (tests/test_cluster.py).
cluster: $(STAMP) haproxy
	$(BIN)/python -m tests.cluster

# Category turns through HAProxy at 1, 2 and 3 replicas (bench/replicas.py).
bench-replicas: $(STAMP) wrk haproxy
	$(BIN)/python -m bench.replicas

# Debian's HAProxy, in front of the replicas in the cluster run and the replica
# benchmark. CI runs as root: it installs it when it is missing. Elsewhere this only
# says what to install.
haproxy:
	@if command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; then :; \
	elif [ -n "$$CI" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; \
	else \
		echo "make: no haproxy: install Debian's haproxy (apt-get install haproxy)" >&2; \
		exit 1; \
	fi

screenshots: $(STAMP) tools chromium
	$(BIN)/python -m tests.card_screenshots docs/cards

# The dashboard of the demo trust in Debian's Chromium, wide and 320 px, light and dark:
# README's screenshots, written by the browser test that checks every chart draws.
dashboard-screenshots: $(STAMP) tools chromium
	WAYPOINT_SLOW=1 WAYPOINT_DASHBOARD_SCREENSHOTS=docs/dashboard $(BIN)/pytest -q tests/test_dashboard_browser.py

clean:
	rm -rf $(VENV) var/*.db tools/node_modules bot/dashboard/teams/node_modules build/e2e
