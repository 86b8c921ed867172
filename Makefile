# Two commands for a fresh machine: `make install`, then `make test`.
PYTHON ?= python3
# An Odoo 18.0 source tree for `make install` to install when `import odoo`
# fails (otherwise it clones the 18.0 branch from GitHub).
ODOO_SRC ?=
# Debian packages the tests need: a PostgreSQL server for the Odoo suite,
# Chromium and its driver for the shop tours.
DEBIAN_PACKAGES = postgresql chromium chromium-driver

.PHONY: install test test-core test-odoo test-upgrade lint benchmark demo

install:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PACKAGES); \
	else \
		echo "Install these Debian packages yourself: $(DEBIAN_PACKAGES)"; \
	fi
	$(PYTHON) scripts/install_odoo.py $(if $(ODOO_SRC),--src "$(ODOO_SRC)")
	$(PYTHON) -m pip install -q -r requirements-dev.txt
	$(PYTHON) -m pip install -q --no-deps -e .

test: test-core test-odoo test-upgrade

test-core:
	$(PYTHON) -m pytest -q tests

test-odoo:
	$(PYTHON) scripts/odoo_suite.py

test-upgrade:
	$(PYTHON) scripts/upgrade_check.py

lint:
	$(PYTHON) -m ruff check . && $(PYTHON) -m ruff format --check .

benchmark:
	$(PYTHON) scripts/benchmark_read.py

# Odoo with the demo database on http://localhost:8069 (KEEP=DIR keeps it).
demo:
	$(PYTHON) scripts/demo.py $(if $(KEEP),--keep "$(KEEP)")

# Export the addon's terms to sophos_ppu/i18n/sophos_ppu.pot with Odoo's own
# exporter and merge them into the .po files (new terms left to translate).
.PHONY: pot
pot:
	$(PYTHON) scripts/export_pot.py
