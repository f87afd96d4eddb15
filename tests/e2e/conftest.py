"""Browser fixtures: Debian's Chromium driven by Playwright, and a uvicorn server in a thread."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Debian's package (apt-get install chromium, in scripts/setup.sh). Playwright's own browser
# downloads are not used: their CDN is unreachable here.
CHROMIUM = Path("/usr/bin/chromium")
# --no-sandbox: CI runs as root, where Chromium's sandbox cannot start. Playwright 1.65 already
# adds it unless chromium_sandbox=True; kept explicit so the launch does not depend on that.
# --disable-dev-shm-usage: /dev/shm may be small in containers; Debian's wrapper
# (/etc/chromium.d/dev-shm) means to add it too, but its test breaks when findmnt prints
# more than one line ("[: unexpected operator" on stderr, harmless).
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--no-default-browser-check",
]
# Fail fast on a broken page instead of Playwright's 30 s default.
DEFAULT_TIMEOUT_MS = 10_000
SERVER_START_TIMEOUT_S = 10.0


def _unavailable(reason: str) -> NoReturn:
    """Skip on a developer machine without the browser; fail in CI, where setup.sh installs it.

    A skipped browser test in CI would hide a missing install step.
    """
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must have it: scripts/setup.sh installs it)", pytrace=False)
    pytest.skip(f"{reason}; run scripts/setup.sh")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context (no cookies or storage shared between tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="uk-UA")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve_app(app: Any, port: int) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a background thread; yield its base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    # uvicorn installs signal handlers only in the main thread, so a thread is safe here.
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not server.started:
            # A failed bind ends server.run (uvicorn exits its thread) without setting started.
            if not thread.is_alive():
                raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn not started after {SERVER_START_TIMEOUT_S} s")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=SERVER_START_TIMEOUT_S)
