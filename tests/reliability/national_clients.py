"""INSi and DMP clients of the test PKI, and one call each, for the national-service
reliability and security tests (also run as a script by ``answer_size_client.py``)."""

from __future__ import annotations

from typing import Any

from segur_core.sandbox.pki import TestPKI
from segur_core.tls import client_context


def insi_client(pki: TestPKI, url: str, *, timeout: float = 2.0, retries: int = 0) -> Any:
    from segur_ins.config import SANDBOX_SOFTWARE_ID
    from segur_ins.insi import InsiClient, SoftwareContext

    credential = pki.client("insi-auto")
    context = client_context(
        ca_bundle=pki.ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
    )
    return InsiClient(
        url,
        SoftwareContext(idam=SANDBOX_SOFTWARE_ID),
        ssl_context=context,
        timeout=timeout,
        retries=retries,
    )


def insi_call(client: Any) -> Any:
    from segur_ins.insi import TraitsQuery

    return client.search_traits(TraitsQuery("ADRUN", ("ZOE",), "F", "1975-12-31"))


def dmp_client(pki: TestPKI, url: str, *, timeout: float = 2.0) -> Any:
    from segur_dmp.testing import make_client

    return make_client(pki, pki.client("structure"), url, timeout=timeout)


def dmp_call(client: Any) -> Any:
    from segur_dmp.testing import KIT_INS

    return client.test_access(KIT_INS)


CLIENTS = {"insi": (insi_client, insi_call), "dmp": (dmp_client, dmp_call)}
