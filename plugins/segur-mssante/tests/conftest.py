"""Fixtures of the segur-mssante tests: the official example archives (``../shared/xdm``,
skipped with the reason where absent) and a note de vaccination built by segur."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def vaccination_cda() -> bytes:
    """A note de vaccination (N3) built by segur-documents for the qualified sample patient."""
    import datetime as dt

    from segur_documents.builders import build_vaccination
    from segur_documents.demo import demo_contents
    from segur_documents.testing import sample_context

    vaccination = demo_contents(dt.date(2024, 10, 2))["vaccination"]
    return build_vaccination(vaccination, sample_context()).xml


@pytest.fixture(scope="session")
def mss_pki(tmp_path_factory):
    from segur_mssante.testing import APP_ADDRESS

    from segur_core.sandbox.pki import TestPKI

    pki = TestPKI.create(tmp_path_factory.mktemp("mss-pki"))
    pki.issue_client(APP_ADDRESS, name="mss-app")
    return pki


@pytest.fixture(scope="session")
def mail_sandbox(mss_pki):
    """One real Dovecot (+ relay) for the whole session; skipped with the reason where
    Dovecot 2.3 is absent, a failure in CI (``CI=true``)."""
    import os

    from segur_mssante.sandbox import MailSandbox, dovecot_missing

    missing = dovecot_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the MSSanté sandbox needs Dovecot in CI: {missing}")
        pytest.skip(missing)
    sandbox = MailSandbox(pki=mss_pki)
    sandbox.start()
    yield sandbox
    sandbox.stop()
