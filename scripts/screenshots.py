"""Full-page screenshots of the main front-line pages at desktop (1280 px) and phone (320 px)
width, for reviewers, in artifacts/screenshots/ (`<page>-desktop.png`, `<page>-phone.png`).

    .venv/bin/python scripts/screenshots.py [--out DIR]

Builds a throwaway SQLite database in a temporary directory, seeds the demo partnership with its
story (as `seed-demo` does), serves the app on a free loopback port, signs in as the work coach
in Debian's Chromium (/usr/bin/chromium, never a downloaded browser) and saves each page in
`PAGES`. A page that answers 404 (not built yet) is skipped with a message. Nothing outside the
temporary directory and the output directory is touched.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from caseshare import create_app, migrate  # noqa: E402
from caseshare.consent.models import Consent  # noqa: E402
from caseshare.demo import DEMO_PASSWORD, seed  # noqa: E402
from caseshare.runtime import Runtime  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
OUT = ROOT / "artifacts" / "screenshots"
SIGN_IN = ("sam.okafor@jcp-derby.example", "case_management")
WIDTHS = {"desktop": (1280, 800), "phone": (320, 640)}

# (file name, path): `{lee}` and `{lee_consent}` come from the demo story. Add a page here.
PAGES: list[tuple[str, str]] = [
    ("caseload", "/"),
    ("overview", "/claimants/{lee}"),
    ("notifications", "/notifications"),
    ("receipt", "/claimants/{lee}/consents/{lee_consent}/receipt"),
]


def demo_app(workdir: Path) -> tuple[Any, dict[str, str]]:
    """The app on a fresh SQLite database with the demo story; the ids the paths need."""
    database = f"sqlite:///{workdir / 'caseshare.db'}"
    migrate.upgrade(database)
    app = create_app({"instance_path": workdir / "instance", "database_url": database,
                      "ratelimit_default": "100000 per minute"})
    rt: Runtime = app.extensions["caseshare"]
    with rt.session_factory() as s:
        lines = list(seed(s, rt, history_days=6))
    lee = next(uuid.UUID(line.split()[3]) for line in lines if line.startswith("claimant: Lee"))
    with rt.session_factory() as s:
        consent = s.scalars(select(Consent.id).where(Consent.subject_id == lee)).first()
    return app, {"lee": str(lee), "lee_consent": str(consent)}


@contextmanager
def serve(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def sign_in(page: Any, base: str) -> None:
    email, purpose = SIGN_IN
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/purpose")
    page.locator(f"input[name=purpose][value={purpose}]").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/")


def shoot(browser: Any, base: str, ids: dict[str, str], out: Path) -> list[Path]:
    """Every page at every width, one signed-in context per width; returns the files written."""
    written: list[Path] = []
    for width_name, (width, height) in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, base)
        for name, path in PAGES:
            response = page.goto(base + path.format(**ids))
            status = response.status if response is not None else 0
            if status == 404:
                print(f"skipped {name} ({path}): not found (404), not built yet")
                continue
            if status >= 400:
                print(f"warning: {name} ({path}) answered {status}; saved anyway")
            target = out / f"{name}-{width_name}.png"
            page.screenshot(path=str(target), full_page=True)
            written.append(target)
        context.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshots of the main pages at desktop "
                                                 "and phone width.")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output directory ({OUT})")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} not found: apt-get install chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    with tempfile.TemporaryDirectory(prefix="caseshare-screenshots-") as tmp:
        app, ids = demo_app(Path(tmp))
        with serve(app) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                written = shoot(browser, base, ids, args.out)
            finally:
                browser.close()
        app.extensions["caseshare"].engine.dispose()
    for path in written:
        print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
