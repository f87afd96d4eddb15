# arkhiv: `make demo` and `make test` do all set-up that is missing (scripts/setup.sh).
VENV := .venv
PY := $(VENV)/bin/python
ARKHIV := $(VENV)/bin/arkhiv
DEMO_ARCHIVE ?= demo-archive
EVAL ?= ../shared/eval/dev
EVAL_HARD ?= ../shared/eval/hard

.PHONY: setup demo test lint unit integration bench bench-quick bench-hard bench-serve bench-search bench-memory clean samples

setup:
	@bash scripts/setup.sh

demo: setup
	$(ARKHIV) doctor
	$(ARKHIV) ingest samples --archive $(DEMO_ARCHIVE) --manifest samples/manifest.csv
	$(ARKHIV) search "архівні дані" --archive $(DEMO_ARCHIVE)
	$(ARKHIV) search "Ужгород" --archive $(DEMO_ARCHIVE) --fond Р-123 --from 1945 --to 1950
	$(ARKHIV) show "ДАЗО, ф. Р-123, оп. 4, спр. 56" --archive $(DEMO_ARCHIVE)
	@echo "The search page: $(ARKHIV) serve --archive $(DEMO_ARCHIVE)   (then open http://127.0.0.1:8080)"

lint: setup
	$(VENV)/bin/ruff check src tests $(wildcard benchmarks)
	$(VENV)/bin/ruff format --check src tests $(wildcard benchmarks)
	$(VENV)/bin/mypy

test: setup lint
	$(PY) -m pytest -q tests

unit: setup
	$(PY) -m pytest -q tests/unit

integration: setup
	$(PY) -m pytest -q tests/integration tests/cli

# Every goal: ingest speed, accuracy and completeness on dev (with plain OCRmyPDF) and on hard
# (issue 14), memory, search at 100,000 pages (about 45 minutes on 2 cores; the 100k archive is
# built under bench-out/, ~1 GB).
bench: setup
	$(PY) benchmarks/bench_ingest.py $(EVAL) --with-ocrmypdf --out bench-out/dev
	$(PY) benchmarks/bench_ingest.py $(EVAL_HARD) --goal-cer 0.03 --out bench-out/hard
	$(PY) benchmarks/bench_memory.py
	$(MAKE) bench-search

# The hard set alone (pages that stress layout analysis), about 5 minutes.
bench-hard: setup
	$(PY) benchmarks/bench_ingest.py $(EVAL_HARD) --goal-cer 0.03 --out bench-out/hard

bench-quick: setup
	$(PY) benchmarks/bench_ingest.py $(EVAL) --quick

# The search page at 10,000 pages (issue 5).
bench-serve: setup
	$(PY) benchmarks/bench_serve.py $(EVAL)

# Search at 100,000 pages (issue 7): a fresh synthetic archive every time.
bench-search: setup
	rm -rf bench-out/search-100k
	$(PY) benchmarks/bench_serve.py $(EVAL) --pages 100000 --out bench-out/search-100k --json-out bench-out/search-100k.json

bench-memory: setup
	$(PY) benchmarks/bench_memory.py

samples: setup
	$(PY) samples/make_samples.py

clean:
	rm -rf $(DEMO_ARCHIVE) .pytest_cache .mypy_cache .ruff_cache
