# Slotline — the two commands: `make run` (whole system, embedded defaults) and `make test`.
SHELL := /bin/bash
# uv is installed from PyPI when absent (the only registry a fresh machine may reach).
UV := $(or $(shell command -v uv 2>/dev/null),$(shell python3 -m pip install --quiet uv >&2 && command -v uv),$(HOME)/.local/bin/uv)
PYTEST_ARGS ?=

.PHONY: help install browser-deps run test test-unit test-integration test-e2e lint typecheck format schema \
        bench bench-idle bench-hops bench-relay bench-slot-finding bench-availability bench-booking bench-booking-long bench-payments bench-notifier \
        bench-call-intake bench-waitlist bench-replay bench-web screenshots loadtest chaos topics token clean images

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

install:  ## install every package of the workspace (locked versions)
	$(UV) sync --frozen

run: install  ## run PostgreSQL, the broker, the six services and web (booking page, console) until Ctrl-C
	$(UV) run --frozen slotline run

browser-deps:  ## the browser tests' Chromium (Debian's, never a download) and axe-core from npm
	@[ -x /usr/bin/chromium ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "install Chromium: sudo apt-get install chromium" >&2; exit 1; }
	@[ -f services/web/tests/node/node_modules/axe-core/axe.min.js ] || \
	  npm ci --prefix services/web/tests/node --no-audit --no-fund --silent

test: install browser-deps lint typecheck  ## lint, type-check and run every test (unit, integration, e2e)
	$(UV) run --frozen pytest $(PYTEST_ARGS)

test-unit: install  ## only the pure unit tests
	$(UV) run --frozen pytest -m unit $(PYTEST_ARGS)

test-integration: install  ## tests against real PostgreSQL and Kafka
	$(UV) run --frozen pytest -m integration $(PYTEST_ARGS)

test-e2e: install  ## whole processes over real HTTP and Kafka
	$(UV) run --frozen pytest -m e2e $(PYTEST_ARGS)

lint: install  ## ruff
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: install  ## mypy (strict)
	$(UV) run --frozen mypy

format: install  ## apply ruff fixes and formatting
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

schema: install  ## regenerate JSON Schemas and the AsyncAPI document
	$(UV) run --frozen slotline-events schema

bench: bench-idle bench-relay bench-slot-finding bench-availability bench-booking bench-booking-long bench-payments bench-notifier bench-call-intake bench-replay bench-web  ## every benchmark

chaos: install  ## kill -9 a service every few seconds under load, restart the broker; check invariants
	$(UV) run --frozen python bench/chaos.py $(CHAOS_ARGS)

bench-hops: install  ## where one booking's time goes, hop by hop (HOPS_PROFILE=1: py-spy flame graphs)
	$(UV) run --frozen python bench/hops.py

bench-idle: install  ## CPU of every process of the stack while nothing happens (< 2 % of a core each)
	$(UV) run --frozen python bench/idle.py

bench-relay: install  ## outbox relay throughput and lag (10,000 events)
	$(UV) run --frozen python bench/relay.py

bench-availability: install  ## availability over HTTP: race, holds/s, slot queries, SSE lag, rebuild
	$(UV) run --frozen python bench/availability.py

.PHONY: bench-calendar
bench-calendar: install  ## calendar pull: event created in a CalDAV calendar → slot gone from the view (calendar_pull_lag_p99)
	$(UV) run --frozen python bench/calendar_sync.py

.PHONY: bench-webhooks bench-integrations
bench-webhooks: install  ## outbound webhooks: booking event committed → healthy receiver has it (webhook_delivery_p99)
	$(UV) run --frozen python bench/webhooks.py

bench-integrations: install  ## calendar_pull_lag_p99, webhook_delivery_p99, waitlist_refill_p99 (issue 19)
	$(UV) run --frozen python bench/calendar_sync.py
	$(UV) run --frozen python bench/webhooks.py
	$(UV) run --frozen python bench/waitlist.py

bench-slot-finding: install  ## slot finding's CPU in one process: a day view, a booking's reach, a hold
	$(UV) run --frozen python bench/slot_finding.py

bench-booking: install  ## booking saga: e2e p50/p99 at 100 requests/s, bookings/s at saturation
	$(UV) run --frozen python bench/booking.py

bench-booking-long: install  ## five minutes at 40 bookings/s: e2e, and each process's GC full passes once its caches are full
	BENCH_BOOKING_PHASES=long $(UV) run --frozen python bench/booking.py

bench-payments: install  ## payment authorisation p99 through the simulator, ledger events/s
	$(UV) run --frozen python bench/payments.py

bench-notifier: install  ## reminder firing skew (10,000 due in one minute), text-back dispatch p99
	$(UV) run --frozen python bench/notifier.py

bench-call-intake: install  ## missed call → text-back p99, webhook req/s
	$(UV) run --frozen python bench/call_intake.py

bench-waitlist: install  ## waitlist refill: cancel → offer text sent (waitlist_refill_p99)
	$(UV) run --frozen python bench/waitlist.py

loadtest: install  ## Locust: 30, 60, 100 concurrent customer sessions on the local stack (p95 per step, errors, double bookings)
	$(UV) run --frozen python bench/loadtest.py

bench-replay: install  ## slotline replay of 100,000 stored events
	$(UV) run --frozen python bench/replay.py

images:  ## build the service images with Docker: slotline-<service>:local (deploy/Dockerfile)
	for service in availability booking payments notifier call-intake analytics web; do \
	  docker build -f deploy/Dockerfile --build-arg SERVICE=$$service -t slotline-$$service:local . || exit 1; \
	done

bench-web: install  ## Lighthouse (mobile) on the booking page: performance, accessibility, first-load bytes
	npm ci --prefix bench/web --no-audit --no-fund --silent
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(UV) run --frozen python bench/web.py

screenshots: install  ## docs/screenshots: every page on a phone and a desktop
	$(UV) run --frozen python bench/screenshots.py $(ONLY)

token: install  ## print a local bearer token (tenant demo, role owner)
	$(UV) run --frozen slotline token

clean:  ## remove local data (PostgreSQL data dir, caches)
	rm -rf .data .pytest_cache .mypy_cache .ruff_cache
