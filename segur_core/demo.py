"""``segur demo``: the counter scenario, run by every enabled plugin against its sandbox.

The core opens and closes the scenario (runtime and host up; outbox drained, journal
verified and exported, summary); plugins contribute the steps in between through
``segur_demo_steps``, sorted by ``order``. A step that raises is shown as failed and
the demo goes on; the result says whether every step passed.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from segur_core.config import Config
from segur_core.files import private_dir, write_private
from segur_core.host import DEFAULT_HOST_FACTORY
from segur_core.i18n import _, ngettext
from segur_core.plugin import DemoContext, DemoStep

__all__ = ["DemoResult", "run_demo"]

START_ORDER = 0
END_ORDER = 10_000


@attrs.define
class DemoResult:
    """What a demo run did: its steps (title, plugin, status, seconds, error), the
    timeline entries, and where the artefacts are (``None`` when not kept)."""

    steps: list[dict[str, Any]] = attrs.Factory(list)
    timeline: list[dict[str, Any]] = attrs.Factory(list)
    out_dir: str | None = None

    @property
    def ok(self) -> bool:
        return all(step["status"] == "ok" for step in self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "out_dir": self.out_dir,
            "steps": self.steps,
            "timeline": self.timeline,
        }


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 400 else text[:397] + "..."


def _start(context: DemoContext) -> None:
    runtime = context.runtime
    loaded = [r.name for r in runtime.loaded_plugins()]
    context.record(
        "segur",
        _("runtime started in {mode} mode with {n} plugins: {names}").format(
            mode=runtime.config.mode, n=len(loaded), names=", ".join(loaded) or _("none")
        ),
        plugins=loaded,
    )
    for record in runtime.plugins.values():
        if record.error:
            context.record(
                "segur",
                _("plugin {name} not loaded: {error}").format(name=record.name, error=record.error),
                level="warning",
                plugin=record.name,
            )
    try:
        structure = runtime.host.structure()
        practitioner = runtime.host.practitioner()
    except Exception as exc:
        context.record(
            "host", _("host not usable: {error}").format(error=_error_text(exc)), level="error"
        )
        raise
    context.data["structure"] = structure
    context.data["practitioner"] = practitioner
    context.record(
        "host",
        _("{host}: {name} (FINESS {finess}), pharmacist RPPS {rpps}").format(
            host=type(runtime.host_object).__name__,
            name=structure.name,
            finess=structure.finess,
            rpps=practitioner.rpps,
        ),
    )


def _end(context: DemoContext) -> None:
    runtime = context.runtime
    if runtime.has_outbox:
        outbox = runtime.outbox
        # deliver what the plugins queued; without any sender nothing can be delivered
        idle = outbox.run_until_idle(timeout=60) if runtime.outbox_senders() else True
        counts = {str(k): v for k, v in outbox.counts().items() if v}
        worrying = counts.get("dead", 0) or counts.get("pending", 0) or not idle
        context.record(
            "outbox",
            _("drained: {counts}").format(
                counts=", ".join(f"{v} {k}" for k, v in counts.items()) or _("nothing queued")
            )
            + ("" if idle else _(" (timed out waiting for deliveries)")),
            counts=counts,
            **({"level": "warning"} if worrying else {}),
        )
        if not idle:
            raise TimeoutError("the outbox did not drain within 60 s")
    for name, transcript in sorted(runtime.sandbox_transcripts().items()):
        written = transcript.write(context.out_dir / "messages" / name)
        if written:
            context.record(
                "sandbox",
                _("{name}: {n} exchange(s) kept in messages/{name}/").format(
                    name=name, n=len(written) // 2
                ),
                exchanges=len(written) // 2,
            )
    journal = runtime.journal
    report = journal.verify()
    ok = bool(getattr(report, "ok", report))
    records = journal.records() if hasattr(journal, "records") else []
    context.record(
        "journal",
        (
            _("{n} audit records, hash chain intact")
            if ok
            else _("{n} audit records, hash chain BROKEN")
        ).format(n=len(records)),
        records=len(records),
    )
    if records:
        lines = "\n".join(json.dumps(r.as_dict(), ensure_ascii=False, default=str) for r in records)
        context.artefact("journal.jsonl", lines + "\n")
    if not ok:
        raise RuntimeError("journal verification failed")


def _run_step(context: DemoContext, step: DemoStep, result: DemoResult) -> None:
    plugin = step.plugin or "segur"
    entry: dict[str, Any] = {"order": step.order, "title": step.title, "plugin": plugin}
    context.record(plugin, step.title, kind="step", order=step.order)
    started = time.perf_counter()
    try:
        step.run(context)
    except Exception as exc:
        entry.update(status="failed", error=_error_text(exc))
        context.record(
            plugin,
            _("step failed: {error}").format(error=entry["error"]),
            level="error",
            kind="step-failed",
            order=step.order,
        )
    else:
        entry.update(status="ok", error=None)
    entry["seconds"] = round(time.perf_counter() - started, 3)
    result.steps.append(entry)


def _collect_steps(runtime: Any, result: DemoResult) -> list[DemoStep]:
    """Every plugin's demo steps, sorted; a plugin whose ``segur_demo_steps`` raises is
    shown as one failed step and the others still run."""
    steps: list[DemoStep] = []
    for impl in runtime.hook.segur_demo_steps.get_hookimpls():
        if impl.wrapper or impl.hookwrapper:
            continue
        try:
            contributed = impl.function(
                *(runtime if a == "runtime" else None for a in impl.argnames)
            )
            for step in contributed or ():
                steps.append(step if step.plugin else attrs.evolve(step, plugin=impl.plugin_name))
        except Exception as exc:
            result.steps.append(
                {
                    "order": START_ORDER,
                    "title": "collect demo steps",
                    "plugin": impl.plugin_name,
                    "status": "failed",
                    "error": _error_text(exc),
                    "seconds": 0.0,
                }
            )
    return sorted(steps, key=lambda s: (s.order, s.plugin))


def run_demo(
    config: Config | None = None,
    *,
    out_dir: str | Path | None = None,
    strict: bool = False,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    extra_plugins: Any = (),
    autoload: bool | None = None,
) -> DemoResult:
    """Run the counter scenario; with ``out_dir`` the databases, artefacts and a JSON
    export of the journal stay there, otherwise everything goes to a temporary folder
    removed at the end."""
    from segur_core.runtime import create_runtime

    config = (config or Config.default()).evolve(mode="demo")
    keep = out_dir is not None
    directory = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="segur-"))
    directory = private_dir(directory.resolve())
    result = DemoResult(out_dir=str(directory) if keep else None)
    clock = time.perf_counter()

    def record(entry: dict[str, Any]) -> None:
        entry.setdefault("t", round(time.perf_counter() - clock, 3))
        if on_record is not None:
            on_record(entry)

    try:
        runtime = create_runtime(
            config,
            host=DEFAULT_HOST_FACTORY,  # fictitious patients never go into a named host
            data_dir=directory,
            strict=strict,
            extra_plugins=extra_plugins,
            autoload=autoload,
        )
    except Exception as exc:
        result.steps.append(
            {
                "order": START_ORDER,
                "title": "start",
                "plugin": "segur",
                "status": "failed",
                "error": _error_text(exc),
                "seconds": 0.0,
            }
        )
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)
        return result
    runtime.record_sandbox_exchanges = keep  # the wire messages stay in out_dir
    try:
        context = DemoContext(runtime=runtime, out_dir=directory, on_record=record)
        steps = [DemoStep(START_ORDER, _("Start: plugins and host"), _start, plugin="segur")]
        steps.extend(_collect_steps(runtime, result))
        steps.append(DemoStep(END_ORDER, _("End: outbox, journal, summary"), _end, plugin="segur"))
        for step in steps:
            _run_step(context, step, result)
        failed = [s for s in result.steps if s["status"] != "ok"]
        context.record(
            "segur",
            ngettext(
                "{passed} of {n} step passed", "{passed} of {n} steps passed", len(result.steps)
            ).format(passed=len(result.steps) - len(failed), n=len(result.steps))
            + (
                _("; failed: {titles}").format(titles=", ".join(s["title"] for s in failed))
                if failed
                else ""
            ),
            kind="summary",
            ok=not failed,
        )
        result.timeline = context.timeline
        if keep:
            write_private(
                directory / "timeline.json",
                json.dumps(result.as_dict(), indent=2, ensure_ascii=False, default=str).encode(),
            )
    finally:
        runtime.close()
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)
    return result
