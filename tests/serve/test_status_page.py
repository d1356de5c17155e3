"""The operator's status page (``GET /v1/status``): served by segur serve, every value
escaped, no script and no external asset, no patient data; checked in a real headless
Chromium (Debian's package, driven by playwright), which keeps a screenshot.

The screenshot is ``status.png`` in the test's temporary directory (pytest keeps the
last three runs' directories); its path is printed (``pytest -s`` or the captured output
of a failure), and it is also copied to ``$SEGUR_SCREENSHOTS`` when that is set (a CI
artefact directory)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hostspecs.conformance import samples
from segur_core import hookimpl
from segur_core.errors import PermanentDeliveryError
from segur_core.model import CardReading
from segur_core.secrets import Secret
from segur_core.serve import ServeSettings, create_app
from segur_core.serve.server import running
from segur_core.serve.status import CSP, render

CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "status-page-token"
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
PATIENT = "P-CONFIDENTIEL-42"


class Faulty:
    """A plugin whose card-read handler fails (contained, counted)."""

    @hookimpl
    def on_card_read(self, reading):
        raise RuntimeError(HOSTILE)


def runtime_with_state(make_segur_runtime):
    runtime = make_segur_runtime(extra_plugins=[("faulty", Faulty())])
    state(runtime)
    return runtime


def state(runtime) -> None:
    """A failing plugin, a dead letter whose error is hostile markup, a live delivery,
    national calls."""
    traits = samples.patient().identity.traits
    runtime.card_read(CardReading(source="vitale-card", traits=traits))

    def refuse(item):
        raise PermanentDeliveryError(f"refused: {HOSTILE}", service="dmp", code="refused")

    runtime.outbox.register_sender("test.dead", refuse)
    runtime.outbox.enqueue("test.dead", "k-dead", b"payload", patient_id=PATIENT)
    runtime.outbox.run_until_idle(timeout=10)
    runtime.outbox.enqueue("test.later", "k-later", b"payload")
    runtime.journal.record("insi.search", service="insi", outcome="ok", patient_id=PATIENT)
    runtime.journal.record("dmp.iti41", service="dmp", outcome=f"error {HOSTILE}")


@pytest.fixture
def status_server(make_segur_runtime):
    runtime = runtime_with_state(make_segur_runtime)
    settings = ServeSettings(token=Secret(TOKEN), port=0, warm=False, outbox_worker=False)
    with running(create_app(runtime, settings), settings) as server:
        yield server.url + "/v1/status", runtime


def test_the_page_escapes_everything_and_holds_no_patient_data(make_segur_runtime) -> None:
    html = render(runtime_with_state(make_segur_runtime))
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert PATIENT not in html
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert html.count("<tr><td>") >= 3  # outbox counts, the dead letter, the calls


def test_the_journal_is_verified_again_only_after_a_while(make_segur_runtime, monkeypatch):
    from segur_core.serve import status

    runtime = make_segur_runtime()
    calls = []
    verify = runtime.journal.verify
    monkeypatch.setattr(runtime.journal, "verify", lambda: calls.append(1) or verify())
    render(runtime)
    render(runtime)
    assert len(calls) == 1
    monkeypatch.setattr(status, "VERIFY_EVERY", 0.0)
    assert "chain verified" in render(runtime)
    assert len(calls) == 2


def test_a_long_journal_check_never_holds_the_page(make_segur_runtime, monkeypatch):
    import threading
    import time

    from segur_core.serve import status

    runtime = make_segur_runtime()
    release = threading.Event()
    verify = runtime.journal.verify
    monkeypatch.setattr(runtime.journal, "verify", lambda: release.wait(10) and verify())
    monkeypatch.setattr(status, "VERIFY_WAIT", 0.1)
    assert "check under way" in render(runtime)  # the check is held: it did not wait
    release.set()
    deadline = time.monotonic() + 10
    while "chain verified" not in (page := render(runtime)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "chain verified" in page


def test_the_page_is_authenticated_and_locked_down(status_server) -> None:
    import httpx

    url, _runtime = status_server
    assert httpx.get(url).status_code == 401
    answer = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-security-policy"] == CSP
    assert answer.headers["x-content-type-options"] == "nosniff"


def _chromium_or_skip() -> None:
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the status page's browser test needs Chromium: {missing}")
        pytest.skip(missing)


def test_the_page_in_a_real_headless_chromium(status_server, tmp_path: Path) -> None:
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    url, _runtime = status_server
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a new, empty user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
            extra_http_headers={"Authorization": f"Bearer {TOKEN}"},
            viewport={"width": 1100, "height": 900},
        )
        try:
            page = browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            answer = page.goto(url)
            assert answer is not None and answer.status == 200
            assert page.title() == "segur status"
            # every section, as an operator reads it
            for section in ("plugins", "outbox", "journal", "national-calls"):
                assert page.locator(f"section#{section}").is_visible()
            plugin = page.locator("#plugins-table tbody tr").first.inner_text().split("\t")
            assert plugin[0] == "faulty" and plugin[3] == "1"  # its one failure
            assert "failing" in page.locator("#plugins .bad").inner_text()
            dead = page.locator("#dead-letters tbody tr")
            assert dead.count() == 1
            assert "refused:" in dead.first.inner_text()
            assert HOSTILE in dead.first.inner_text()  # shown as text, not run
            assert page.locator("#journal .ok").inner_text() == "chain verified"
            calls = page.locator("#national-calls-table tbody tr").all_inner_texts()
            assert [c.split("\t")[1:3] for c in calls] == [
                ["dmp", "dmp.iti41"],
                ["insi", "insi.search"],
                ["test.dead", "outbox.attempt"],  # the outbox's attempt, journaled
            ]
            counts = dict(
                row.split("\t") for row in page.locator("#outbox-counts tbody tr").all_inner_texts()
            )
            assert counts["dead"] == "1" and counts["pending"] == "1"
            assert page.evaluate("window.__pwned") is None  # no markup ran
            assert PATIENT not in page.content()
            shot = tmp_path / "status.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert requests == [url], f"the page loaded more than itself: {requests}"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    print(f"status page screenshot: {shot}")
    keep = os.environ.get("SEGUR_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "status-page.png")


@pytest.mark.parametrize(
    ("lang", "spoken", "foreign"),
    [
        ("fr", ("Extensions", "Envois abandonnés", "chaîne vérifiée", "état de segur"),
         ("Dead letters", "chain verified", "Plugins", "segur status")),
        ("en", ("Plugins", "Dead letters", "chain verified", "segur status"),
         ("Envois abandonnés", "chaîne vérifiée", "état de segur")),
    ],
)  # fmt: skip
def test_the_page_speaks_the_services_language(make_segur_runtime, lang, spoken, foreign):
    """One language per screen: the page follows the service's language (``SEGUR_LANG``
    or the locale), its ``lang`` attribute included; stored codes stay as they are."""
    from segur_core.i18n import set_language

    runtime = runtime_with_state(make_segur_runtime)
    set_language(lang)
    try:
        html = render(runtime)
    finally:
        set_language(None)
    assert f'<html lang="{lang}">' in html
    assert all(text in html for text in spoken), [t for t in spoken if t not in html]
    assert not any(text in html for text in foreign), [t for t in foreign if t in html]
