"""The private parts of pluggy and uvicorn segur relies on, checked one by one.

``segur_core._isolation`` finds the failing hook implementation in pluggy's
``_multicall`` frame; ``segur_core.sandbox.server`` subclasses uvicorn's ``H11Protocol``
and filters one of its log messages. Both libraries are bounded in ``pyproject.toml`` to
the tested range: before raising a bound, run this file against the new release.
"""

from __future__ import annotations

import inspect
import json

import httpx
import pluggy
import pytest

from segur_core._isolation import call_impl, failing_impl
from segur_core.sandbox.server import ServerThread, ServerTLS, peer_certificate
from segur_core.tls import client_context

VERSIONS = f"pluggy {pluggy.__version__}"

spec = pluggy.HookspecMarker("internals")
impl = pluggy.HookimplMarker("internals")


class _Specs:
    @spec
    def event(self, value):
        """An event."""


class _Fine:
    @impl
    def event(self, value):
        return value


class _Raising:
    @impl
    def event(self, value):
        raise ValueError("raised by a plugin")


def _manager() -> tuple[pluggy.PluginManager, object]:
    pm = pluggy.PluginManager("internals")
    pm.add_hookspecs(_Specs)
    raising = _Raising()
    pm.register(_Fine(), name="fine")
    pm.register(raising, name="raising")
    return pm, raising


def test_pluggy_runs_implementations_in_a_multicall_frame_with_a_hook_impl_local():
    pm, raising = _manager()
    with pytest.raises(ValueError) as caught:
        pm.hook.event(value=1)
    frames = []
    tb = caught.value.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    multicall = [f for f in frames if f.f_code.co_name == "_multicall"]
    assert multicall, f"{VERSIONS}: no _multicall frame in a failing hook call"
    assert "hook_impl" in multicall[0].f_locals, f"{VERSIONS}: _multicall has no hook_impl"
    found = failing_impl(caught.value)
    assert found is not None and found.plugin is raising, VERSIONS


def test_pluggy_hook_impls_have_the_attributes_the_runtime_reads():
    pm, _ = _manager()
    impls = pm.hook.event.get_hookimpls()
    for hook_impl in impls:
        for name in ("function", "argnames", "kwargnames", "plugin", "plugin_name",
                     "wrapper", "hookwrapper", "optionalhook"):  # fmt: skip
            assert hasattr(hook_impl, name), f"{VERSIONS}: HookImpl has no {name}"
    fine = next(i for i in impls if i.plugin_name == "fine")
    assert fine.argnames == ("value",), VERSIONS
    assert call_impl(fine, {"value": 7}) == 7


def test_pluggy_calls_the_replaced_function_of_a_hook_impl():
    pm = pluggy.PluginManager("internals")
    pm.add_hookspecs(_Specs)
    pm.register(_Fine(), name="fine")
    (fine,) = pm.hook.event.get_hookimpls()
    fine.function = lambda value: value * 2  # what tracing does (Runtime._instrument)
    assert pm.hook.event(value=5) == [10], f"{VERSIONS}: HookImpl.function is not what runs"


# -- uvicorn --------------------------------------------------------------------------------


@pytest.mark.parametrize("parser", ["h11", "httptools"])
def test_uvicorn_h11_protocol_has_the_shape_the_sandbox_server_subclasses(parser):
    uvicorn = pytest.importorskip("uvicorn")
    pytest.importorskip(parser)
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    if parser == "httptools":  # what segur serve subclasses when it is installed
        H11Protocol = HttpToolsProtocol
    where = f"uvicorn {uvicorn.__version__} ({parser})"
    assert list(inspect.signature(H11Protocol.connection_made).parameters) == [
        "self",
        "transport",
    ], where
    init = inspect.getsource(H11Protocol.__init__)
    assert "self.app = config.loaded_app" in init, f"{where}: H11Protocol.app is set elsewhere"
    body = inspect.getsource(H11Protocol)
    assert "app = self.app" in body, f"{where}: requests no longer read H11Protocol.app"
    config = inspect.signature(uvicorn.Config).parameters
    assert {"http", "ssl_context_factory", "timeout_graceful_shutdown"} <= set(config), where
    server = uvicorn.Server(uvicorn.Config(app=None))
    for name in ("started", "should_exit", "force_exit"):
        assert hasattr(server, name), f"{where}: Server has no {name}"
    assert "sockets" in inspect.signature(uvicorn.Server.serve).parameters, where
    # segur_core.serve.server replaces capture_signals, installing handle_exit itself
    assert callable(uvicorn.Server.capture_signals) and callable(server.handle_exit), where


def test_uvicorn_still_logs_the_shutdown_notice_the_server_filters():
    server = pytest.importorskip("uvicorn.server")
    assert '"Cancel %s running task(s)' in inspect.getsource(server), (
        "uvicorn: the graceful-shutdown notice the sandbox server filters changed"
    )


async def _extensions_app(scope, receive, send):
    extensions = scope.get("extensions", {})
    cert = peer_certificate(scope)
    body = json.dumps(
        {
            "transport": "segur.transport" in extensions,
            "tls": sorted(extensions.get("tls") or ()),
            "peer": cert.subject.rfc4514_string() if cert is not None else None,
        }
    ).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_the_tls_protocol_subclass_fills_the_asgi_extensions(tmp_path):
    pytest.importorskip("uvicorn")
    from segur_core.sandbox.pki import TestPKI

    pki = TestPKI.create(tmp_path / "pki")
    server = ServerThread(_extensions_app, tls=ServerTLS.from_pki(pki))
    server.start()
    try:
        credential = pki.client("structure")
        context = client_context(
            ca_bundle=pki.ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
        )
        with httpx.Client(verify=context) as client:
            seen = client.get(f"{server.url}/").json()
    finally:
        server.stop()
    assert seen["transport"] is True
    assert "client_cert_chain" in seen["tls"]
    assert credential.subject_cn in seen["peer"]


def test_the_bounds_in_pyproject_cover_the_installed_releases():
    from importlib import metadata

    from packaging.requirements import Requirement

    requires = [Requirement(r) for r in metadata.distribution("segur-core").requires or []]
    bounds = {r.name: r.specifier for r in requires if r.name in {"pluggy", "uvicorn"}}
    assert set(bounds) == {"pluggy", "uvicorn"}
    assert any(s.operator == "<" for s in bounds["pluggy"])
    assert any(s.operator == "<" for s in bounds["uvicorn"])
    assert pluggy.__version__ in bounds["pluggy"]
    uvicorn = pytest.importorskip("uvicorn")
    assert uvicorn.__version__ in bounds["uvicorn"]
