"""``segur serve``: the runtime as a local HTTP/JSON service (see docs/service.md)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import attrs
import click

from segur_core.cli._state import CliState
from segur_core.cli.output import emit_json_line, json_option
from segur_core.cli.params import PathParam

__all__ = ["command", "serve_settings"]

#: The socket ``segur serve`` listens on when nothing else is configured.
DEFAULT_SOCKET = "serve.sock"


def serve_settings(state: CliState, **given: Any) -> Any:
    """The ``[segur.serve]`` settings with the command line's choices applied: with no
    authentication configured and no address given, a Unix socket in the data directory."""
    from segur_core.serve.settings import ServeSettings

    settings = ServeSettings.from_config(state.config())
    changes = {name: value for name, value in given.items() if value is not None}
    tcp = given.get("host") is not None or given.get("port") is not None
    if given.get("socket") is None and tcp:
        changes["socket"] = None
    settings = attrs.evolve(settings, **changes)
    no_auth = settings.token is None and settings.tls is None
    if settings.socket is None and no_auth and not tcp:
        settings = attrs.evolve(settings, socket=state.data_dir() / DEFAULT_SOCKET)
    return settings


@click.command("serve")
@click.option(
    "--host", "address", metavar="ADDRESS", help="Listen on this address (default 127.0.0.1)."
)
@click.option(
    "--port", type=click.IntRange(0, 65535), help="TCP port (0: a free one; default 8765)."
)
@click.option(
    "--socket", "socket_path", type=PathParam(dir_okay=False),
    help="Listen on this Unix socket (0600) instead of TCP.",
)  # fmt: skip
@click.option("--no-warm", is_flag=True, help="Do not warm the validators up at start.")
@json_option(lines=True)
@click.pass_context
def command(
    ctx: click.Context,
    address: str | None,
    port: int | None,
    socket_path: str | None,
    no_warm: bool,
    as_json: bool,
) -> None:
    """Serve the runtime as a local HTTP/JSON API (OpenAPI at /v1/openapi.json)."""
    from segur_core.serve.app import create_app
    from segur_core.serve.server import serve

    state = ctx.ensure_object(CliState)
    settings = serve_settings(
        state,
        host=address,
        port=port,
        socket=Path(socket_path).resolve() if socket_path else None,
        warm=False if no_warm else None,
    )
    settings.check()
    runtime = state.runtime(actor=None)  # each call journals its own caller
    app = create_app(runtime, settings)
    service = app.state.service

    def say(data: dict[str, Any], text: str) -> None:
        if as_json:
            emit_json_line(data)  # the address, then readiness: one line each
        else:
            click.echo(text)

    def listening(url: str) -> None:
        say({"listening": url}, f"segur serve: listening on {url} (OpenAPI: /v1/openapi.json)")
        threading.Thread(target=watch, daemon=True, name="segur-ready").start()

    def watch() -> None:
        while service.ready_after is None:
            if any(s.startswith("failed") for s in service.warm_state.values()):
                say({"ready": False, "warmups": service.warm_state}, "segur serve: NOT ready")
                return
            time.sleep(0.05)
        say(
            {"ready": True, "seconds": round(service.ready_after, 3)},
            f"segur serve: ready after {service.ready_after:.2f} s",
        )

    serve(runtime, settings, on_listening=listening, app=app)
    say({"stopped": True}, "segur serve: stopped")
