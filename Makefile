# Metodist: the two commands of the README, plus the benchmarks.
#   make demo   create .venv when missing, install, load the demo municipality and serve it
#   make test   the whole suite on SQLite, and again on PostgreSQL when METODIST_TEST_DATABASE_URL is set
#   make bench  the benchmarks (region-scale import, the whole analysis of a year, the pages under load)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-sqlite test-postgres bench lint clean serve messages system-deps

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/metodist demo

serve: $(STAMP)
	$(BIN)/metodist serve

# Debian packages the tests use: LibreOffice opens the DOCX and XLSX we produce, as a user's office
# suite would; pdftoppm turns its PDF into pictures; Chromium is the browser the end-to-end tests drive
# through Playwright (Debian's, never a download). Installed when missing and when we may (root + apt).
system-deps:
	@if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 \
			|| ! test -x /usr/bin/chromium; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils chromium >/dev/null; \
		else echo "LibreOffice/poppler/Chromium missing and cannot be installed here: those tests will be skipped"; fi; \
	fi

test: $(STAMP) system-deps
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$METODIST_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "METODIST_TEST_DATABASE_URL is not set: the PostgreSQL run is skipped"; fi

test-sqlite: $(STAMP)
	env -u METODIST_DATABASE_URL METODIST_DATA_DIR=$(CURDIR)/var/test-sqlite $(BIN)/pytest -q -p no:cacheprovider

test-postgres: $(STAMP)
	METODIST_DATABASE_URL="$$METODIST_TEST_DATABASE_URL" METODIST_DATA_DIR=$(CURDIR)/var/test-postgres \
		$(BIN)/pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m benchmarks.import_region
	$(BIN)/python -m benchmarks.analysis_region
	$(BIN)/python -m benchmarks.web_region

# Regenerate and compile the Russian catalog (needs GNU gettext: apt-get install gettext).
messages: $(STAMP)
	command -v msgfmt >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext)
	cd metodist && ../$(BIN)/python -m django makemessages -l ru -l en -i "migrations/*" --settings=metodist.settings
	cd metodist && LC_ALL=C.UTF-8 ../$(BIN)/python -m django compilemessages --settings=metodist.settings

clean:
	rm -rf $(VENV) var
