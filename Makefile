# LogWeave developer entry points. `make test` is what CI runs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
KAFKA_VERSION ?= 4.4.0

.PHONY: test lint unit integration deps venv kafka demo demo-local bench clean molecule

test: lint kafka
	$(PY) -m pytest -q
	$(MAKE) molecule

# The Debian packages (PostgreSQL, rsyslog, Java, Maven, podman, ...); needs root when any is missing.
deps:
	scripts/install-deps.sh

venv: $(VENV)/.installed
$(VENV)/.installed: requirements/dev.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/dev.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

kafka: var/kafka/kafka_2.13-$(KAFKA_VERSION).tgz
var/kafka/kafka_2.13-$(KAFKA_VERSION).tgz: scripts/build-kafka-dist.sh
	KAFKA_VERSION=$(KAFKA_VERSION) scripts/build-kafka-dist.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/yamllint .
	$(VENV)/bin/ansible-lint

unit: venv
	$(PY) -m pytest -m "not integration" -q

integration: venv kafka
	$(PY) -m pytest -m integration -q

# The README's quick start: the whole deployment in a local systemd container (as root), fed the
# corpus and simulated lines; it keeps running and the last lines say how to remove it.
demo: deps
	$(MAKE) venv kafka
	scripts/build-molecule-image.sh
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" scripts/demo-container.sh

# The same pipeline as plain processes on loopback ports of their own, without root or
# containers; everything stops and is removed at the end.
demo-local: venv kafka
	$(PY) scripts/demo.py

# The site playbook converged twice on a systemd container, then the pipeline verified end to
# end (molecule/default). Needs root, podman and the ports 514, 5432, 9092, 9093 and 10514 free.
molecule: venv kafka
	scripts/build-molecule-image.sh
	CONTAINERS_CONF="$(CURDIR)/molecule/containers.conf" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
		$(VENV)/bin/molecule test

bench: venv kafka
	$(PY) bench/pipeline.py

# Each dashboard panel's and alert's query time on 30 days (about 5M events) of a simulated home
# network in a throwaway PostgreSQL; loading takes a few minutes. Not part of `make test`.
.PHONY: bench-dashboards
bench-dashboards: venv
	$(PY) bench/dashboards.py

clean:
	rm -rf $(VENV) var build dist *.egg-info
