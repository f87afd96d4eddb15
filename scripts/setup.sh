#!/usr/bin/env bash
# Installs everything arkhiv needs on Debian/Ubuntu, only what is missing: the apt packages,
# a .venv, and the package with its development tools. `make demo` and `make test` call it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Programs and data from Debian: Tesseract with the Ukrainian, Russian and English models,
# Ghostscript and qpdf (used by OCRmyPDF), poppler (pdftotext, pdftoppm for pdf2image),
# fonts for samples/make_samples.py (they also cover Cyrillic in Chromium's screenshots),
# Chromium for the browser tests in tests/e2e (Playwright drives /usr/bin/chromium; it never
# downloads a browser of its own).
APT_PACKAGES=(
  tesseract-ocr tesseract-ocr-ukr tesseract-ocr-rus tesseract-ocr-eng
  ghostscript qpdf poppler-utils
  fonts-dejavu-core fonts-liberation2
  chromium
  python3-venv
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
# Reinstall only when pyproject.toml changed since the last successful install.
stamp=.venv/.arkhiv-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing arkhiv and its Python dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
