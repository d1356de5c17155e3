"""Retries by time horizon: an outage of hours does not dead-letter what is queued, the
policy comes from ``[segur.outbox]`` (per sender), and a dead letter is announced by a
hook, ``segur doctor`` and ``segur outbox list``."""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from segur_core import hookimpl
from segur_core.cli import cli
from segur_core.config import Config, load_config
from segur_core.errors import ConfigError
from segur_core.model import DeliveryState
from segur_core.outbox import OutboxSettings, RetryPolicy
from segur_core.plugin import PluginInfo

from .receiver import KEY_HEADER, CountingReceiver
from .stores import Store

KEYS = ("doc-1", "doc-2", "doc-3", "doc-4")


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def poster(client: httpx.Client, url: str):
    def send(item) -> str:
        answer = client.post(url, content=item.payload, headers={KEY_HEADER: item.key})
        answer.raise_for_status()
        return answer.text

    return send


def test_an_outage_longer_than_the_old_budget_delivers_each_item_once(store: Store) -> None:
    """The receiver is down for three hours (the old budget, 8 attempts from 1 s, was
    spent in about two minutes), then back: every item is delivered, exactly once."""
    clock = Clock()
    receiver = CountingReceiver()
    receiver.start()
    port = int(receiver.url.split(":")[2].split("/")[0])
    url = receiver.url
    receiver.stop()  # the service is down: connections are refused
    with httpx.Client(timeout=5) as client:
        send = poster(client, url)
        with store.outbox(senders={"http": send}, clock=clock) as outbox:
            for key in KEYS:
                outbox.enqueue("http", key, key.encode())
            start = clock.now
            attempts = 0
            while clock.now - start < 3 * 3600:
                attempts += outbox.deliver_due()
                due = outbox.next_due()
                assert due is not None, "an item was given up during the outage"
                clock.now = max(clock.now, due)
            items = outbox.list()
            assert {d.state for d in items} == {DeliveryState.PENDING}
            assert min(d.attempts for d in items) > 8  # more than the old budget
            assert attempts > 8 * len(KEYS)
            receiver.start(port)  # the service is back
            try:
                for _ in range(len(KEYS) * 2):
                    clock.now = max(clock.now, outbox.next_due() or clock.now)
                    outbox.deliver_due()
                    if outbox.next_due() is None:
                        break
                assert {d.state for d in outbox.list()} == {DeliveryState.DELIVERED}
            finally:
                receiver.stop()
    assert receiver.received == {key: 1 for key in KEYS}
    assert receiver.bodies == {key: key.encode() for key in KEYS}


def test_retry_delays_stay_capped_and_end_at_the_horizon(store: Store) -> None:
    """With a short horizon, retries go on until it, the last one at the horizon, then
    the item is dead with the count and the policy in its error."""
    clock = Clock()

    def down(item) -> str:
        raise httpx.ConnectError("refused")

    settings = OutboxSettings(default=RetryPolicy(horizon=600, base_delay=1, max_delay=60))
    with store.outbox(senders={"x": down}, settings=settings, clock=clock) as ob:
        item = ob.enqueue("x", "k", b"x")
        times = []
        while ob.next_due() is not None:
            clock.now = max(clock.now, ob.next_due())
            times.append(clock.now - 1_700_000_000.0)
            ob.deliver_due()
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert max(gaps) <= 60 + 1e-6
        assert times[-1] == pytest.approx(600)  # one last attempt at the horizon
        dead = ob.get(item.id)
        assert dead.state is DeliveryState.DEAD and dead.attempts == len(times)
        assert "no attempts left" in dead.last_error and "600 s horizon" in dead.last_error


TOML = """
[segur]
mode = "test"

[segur.outbox]
horizon_hours = 96
base_delay = 2
max_delay = 600
lease = 30

[segur.outbox.senders."dmp.iti41"]
horizon_hours = 120

[segur.outbox.senders."mssante.smtp"]
max_attempts = 5
"""


def test_policies_come_from_segur_toml_per_sender(tmp_path: Path, make_segur_runtime) -> None:
    path = tmp_path / "segur.toml"
    path.write_text(TOML)
    settings = load_config(path).settings.outbox
    assert settings.lease == 30
    assert settings.default == RetryPolicy(96 * 3600, 2.0, 600.0, None)
    assert settings.policy("dmp.iti41") == RetryPolicy(120 * 3600, 2.0, 600.0, None)
    assert settings.policy("mssante.smtp") == RetryPolicy(96 * 3600, 2.0, 600.0, 5)
    assert settings.policy("other") == settings.default
    runtime = make_segur_runtime(config={"segur": {"outbox": {"horizon_hours": 1.5}}})
    assert runtime.outbox.settings.policy("dmp.iti41").horizon == 5400
    default = make_segur_runtime().outbox.settings.default
    assert default.horizon >= 72 * 3600 and default.max_attempts is None


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("horizon_hours = nan", "segur.outbox.horizon_hours"),
        ("horizon_hours = inf", "segur.outbox.horizon_hours"),
        ("horizon_hours = 1e308", "segur.outbox"),
        ("base_delay = -1", "segur.outbox.base_delay"),
        ("max_delay = 0", "segur.outbox.max_delay"),
        ("max_delay = 0.5", "segur.outbox.max_delay"),  # shorter than base_delay
        ('lease = "60"', "segur.outbox.lease"),
        ("lease = -inf", "segur.outbox.lease"),
        ("max_attempts = 0", "segur.outbox.max_attempts"),
        ("max_attempts = 2.5", "segur.outbox.max_attempts"),
        ("retries = 3", "segur.outbox.retries"),
        ('senders = "dmp"', "segur.outbox.senders"),
        ('senders."dmp.iti41" = { horizon_hours = nan }', 'segur.outbox.senders."dmp.iti41"'),
        ('senders."dmp.iti41" = { lease = 5 }', 'segur.outbox.senders."dmp.iti41".lease'),
    ],
)
def test_bad_outbox_settings_name_their_key(tmp_path: Path, table: str, key: str) -> None:
    path = tmp_path / "segur.toml"
    path.write_text(f"[segur.outbox]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key is not None and caught.value.key.startswith(key)


@given(
    name=st.sampled_from(["horizon_hours", "base_delay", "max_delay", "lease"]),
    value=st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**30), 10**30),
)
def test_any_number_is_accepted_or_refused_with_its_key(name: str, value: float) -> None:
    try:
        settings = Config.from_dict({"segur": {"outbox": {name: value}}}).settings.outbox
    except ConfigError as exc:
        assert exc.key is not None and exc.key.startswith("segur.outbox")
        return
    policy = settings.default
    numbers = (policy.horizon, policy.base_delay, policy.max_delay, settings.lease)
    assert all(math.isfinite(n) and n > 0 for n in numbers)
    assert policy.max_delay >= policy.base_delay


class Watcher:
    """A plugin whose sender always fails, recording the settlement events."""

    def __init__(self) -> None:
        self.settled: list = []
        self.dead: list = []

    @hookimpl
    def segur_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="watcher", version="1.0")

    @hookimpl
    def segur_outbox_senders(self, runtime):
        return {"feed": self.send}

    def send(self, item) -> str:
        raise httpx.ConnectError("refused")

    @hookimpl
    def on_delivery_settled(self, delivery, runtime):
        self.settled.append(delivery)

    @hookimpl
    def on_delivery_dead(self, delivery, runtime):
        self.dead.append(delivery)


def test_a_dead_letter_is_announced_by_hook_doctor_and_list(
    tmp_path: Path, make_segur_runtime
) -> None:
    data_dir = tmp_path / "data"
    outbox_table = {"horizon_hours": 0.5 / 3600, "base_delay": 0.05, "max_delay": 0.1}
    plugin = Watcher()
    runtime = make_segur_runtime(
        config={"segur": {"outbox": outbox_table}}, extra_plugins=[plugin], data_dir=data_dir
    )
    item = runtime.outbox.enqueue("feed", "doc-dead", b"x", patient_id="p-1")
    started = time.monotonic()
    assert runtime.outbox.run_until_idle(timeout=10)
    assert time.monotonic() - started >= 0.4  # retried for the horizon, not less
    assert [(d.id, d.state) for d in plugin.dead] == [(item.id, DeliveryState.DEAD)]
    assert [d.id for d in plugin.settled] == [item.id]  # settled first, then dead
    assert plugin.dead[0].attempts > 1 and "no attempts left" in plugin.dead[0].last_error
    runtime.outbox.deliver_due()  # announced once
    assert len(plugin.dead) == 1
    runtime.close()

    config = tmp_path / "segur.toml"
    config.write_text(f'[segur]\ndata_dir = "{data_dir}"\nmode = "test"\nplugins = []\n')
    runner = CliRunner(env={"COLUMNS": "200"})
    doctor = runner.invoke(cli, ["--config", str(config), "doctor", "--json"])
    (check,) = [c for c in json.loads(doctor.output)["checks"] if c["check"] == "outbox"]
    assert check["result"] == "warning" and "1 dead deliveries" in check["message"]
    listing = runner.invoke(cli, ["--config", str(config), "outbox", "list"])
    assert listing.exit_code == 0
    assert "1 dead deliveries will not be sent again unless retried" in listing.output
    assert "segur outbox retry" in listing.output


def test_the_documented_outbox_table_loads(tmp_path: Path) -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "host-integration.md"
    blocks = re.findall(r'```toml title="segur.toml"\n(.*?)```', doc.read_text(), re.DOTALL)
    (block,) = [b for b in blocks if "[segur.outbox]" in b]
    path = tmp_path / "segur.toml"
    path.write_text(block)
    settings = load_config(path).settings.outbox
    assert settings.default == RetryPolicy(72 * 3600, 1.0, 300.0, None)
    assert settings.policy("dmp.iti41").horizon == 120 * 3600
    assert settings.payload_retention == 3 * 86400


def test_config_show_prints_the_effective_outbox_table(tmp_path: Path) -> None:
    path = tmp_path / "segur.toml"
    path.write_text(TOML.replace('mode = "test"', f'mode = "test"\ndata_dir = "{tmp_path}"'))
    runner = CliRunner()
    shown = runner.invoke(cli, ["--config", str(path), "config", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    table = json.loads(shown.output)["segur"]["outbox"]
    assert table["horizon_hours"] == 96 and table["lease"] == 30
    assert table["senders"]["dmp.iti41"]["horizon_hours"] == 120
    assert table["senders"]["mssante.smtp"]["max_attempts"] == 5
    assert Config.from_dict({"segur": {"outbox": table}}).settings.outbox == (
        load_config(path).settings.outbox
    )  # what it shows loads back to the same settings
    text = runner.invoke(cli, ["--config", str(path), "config", "show"]).output
    assert "[segur.outbox]" in text and "horizon_hours = 96" in text


def test_an_item_that_kills_its_workers_is_not_retried_past_the_horizon(
    store: Store,
) -> None:
    """Without an attempt bound, an item whose every attempt dies with its worker (a
    poison pill) is given up once the horizon has passed, without another attempt."""
    clock = Clock()
    sent: list[str] = []
    settings = OutboxSettings(default=RetryPolicy(horizon=600), lease=5)
    with (
        store.outbox(senders={"x": sent.append}, settings=settings, clock=clock) as outbox,
        store.outbox(clock=clock) as dying,
    ):
        item = outbox.enqueue("x", "poison", b"x")
        while clock.now < 1_700_000_000.0 + 600 + 5:  # every worker dies while sending it
            assert dying._store.claim("dying", limit=1, lease=5)
            clock.now += 6
        outbox.deliver_due()
        dead = outbox.get(item.id)
        assert dead.state is DeliveryState.DEAD and "interrupted" in dead.last_error
        assert sent == []
