"""``segur demo``: run the counter scenario and print its timeline."""

from __future__ import annotations

from typing import Any

import click

from segur_core.cli import CORE_HELP
from segur_core.cli._state import CliState
from segur_core.cli.output import emit_json, json_option
from segur_core.cli.params import out_option
from segur_core.i18n import _, _l

__all__ = ["command"]

_LEVEL_STYLE = {"error": "bold red", "warning": "yellow"}


def _printer(console: Any) -> Any:
    from rich.markup import escape

    def show(entry: dict[str, Any]) -> None:
        t = f"[dim]{entry.get('t', 0):7.2f}s[/dim]"
        actor = escape(str(entry.get("actor", "")))
        message = escape(str(entry.get("message", "")))
        kind = entry.get("kind")
        if kind == "step":
            console.print(f"\n{t} [bold cyan]▶ {message}[/bold cyan] [dim]({actor})[/dim]")
        elif kind == "summary":
            style = "bold green" if entry.get("ok") else "bold red"
            console.print(f"\n{t} [{style}]{message}[/{style}]")
        else:
            style = _LEVEL_STYLE.get(entry.get("level", ""), "")
            body = f"[{style}]{message}[/{style}]" if style else message
            console.print(f"{t}   [magenta]{actor:>12}[/magenta]  {body}")

    return show


@click.command("demo", help=CORE_HELP["demo"])
@out_option(
    type=click.Path(file_okay=False),
    help=_l("Keep every artefact (documents, messages, databases, journal) in this folder."),
)
@json_option
@click.option(
    "--serve", "over_http", is_flag=True,
    help=_l("Drive the scenario over HTTP, as an LGO does, through segur serve's API."),
)  # fmt: skip
@click.pass_obj
def command(state: CliState, out: str | None, as_json: bool, over_http: bool) -> None:
    if over_http:
        _serve_demo(state, out, as_json)
        return
    from segur_core.demo import run_demo

    on_record = None
    console = None
    if not as_json:
        from rich.console import Console
        from rich.markup import escape

        console = Console()
        console.print(
            "[bold]segur demo[/bold]: " + escape(_("the counter scenario on the reference host"))
        )
        on_record = _printer(console)
    from segur_core.cli.progress import progress

    # a spinner on a terminal while a step works (the first schematron compilation is
    # 15-45 s), named after the step under way
    with progress(_("starting the sandboxes"), enabled=not as_json) as bar:
        if on_record is not None and bar.shown:
            print_entry = on_record

            def on_record(entry: dict[str, Any]) -> None:
                print_entry(entry)
                if entry.get("kind") == "step":
                    bar.update(description=str(entry.get("message", "")))

        result = run_demo(
            state.config(), out_dir=out, strict=state.effective_strict, on_record=on_record
        )
    if as_json:
        emit_json(result.as_dict())
    elif console is not None:
        for step in result.steps:
            if step["status"] != "ok" and step["title"] in {"start", "collect demo steps"}:
                failed = _("{step} failed:").format(step=step["title"])
                console.print(f"[bold red]{escape(failed)}[/bold red] {escape(str(step['error']))}")
        if result.out_dir:
            console.print(
                escape(_("artefacts kept in {folder}").format(folder=result.out_dir)),
                highlight=False,
            )
    if not result.ok:
        raise SystemExit(1)


def _serve_demo(state: CliState, out: str | None, as_json: bool) -> None:
    """The scenario driven over HTTP (:mod:`segur_core.serve.demo`): each call's status,
    method, path, duration and what came back."""
    from segur_core.serve.demo import run_serve_demo

    on_call = None
    if not as_json:
        from rich.console import Console
        from rich.markup import escape

        console = Console()
        console.print(
            "[bold]segur demo --serve[/bold]: " + escape(_("the counter scenario over HTTP"))
        )

        def on_call(entry: dict[str, Any]) -> None:
            style = "green" if entry["status"] < 400 else "yellow"
            console.print(
                f"[{style}]{entry['status']}[/{style}] {entry['method']:<4} "
                f"[cyan]{escape(entry['path'])}[/cyan] [dim]{entry['seconds']:.2f}s[/dim]\n"
                f"      {escape(entry['summary'])}",
                highlight=False,
            )

    result = run_serve_demo(state.config(), out_dir=out, on_call=on_call)
    if as_json:
        emit_json(result.as_dict())
    if not result.ok:
        raise SystemExit(1)
