"""Every patient one page at a time (``host_patients_page``): the reference cursor
format, the facade's iteration over the SQLite reference host, its fallback to the
all-at-once listing for a host without pages, and a host whose pages do not move
forward."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pluggy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostspecs.conformance import samples
from hostspecs.reference import ReferenceHost
from segur_core.errors import ConformanceError, InputError
from segur_core.host import CursorError, Host, PatientPage, hookspecs, hostimpl
from segur_core.host.paging import MAX_PAGE_SIZE, decode_cursor, encode_cursor

PATIENTS = 13


def facade(host: object) -> Host:
    pm = pluggy.PluginManager("segur")
    pm.add_hookspecs(hookspecs)
    pm.register(host)
    return Host(pm.hook)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ReferenceHost, list]]:
    with ReferenceHost(tmp_path_factory.mktemp("pages") / "host.sqlite") as host:
        ids = [host.host_save_patient(samples.patient(f"PAGE{n}")).id for n in range(PATIENTS)]
        yield host, ids


@given(st.text(min_size=1, max_size=200))
def test_a_cursor_gives_back_its_key(key: str) -> None:
    assert decode_cursor(encode_cursor(key)) == key


@given(st.text(max_size=300) | st.from_regex(r"k1\.[A-Za-z0-9_=+/-]{0,40}", fullmatch=True))
def test_any_text_is_a_cursor_of_one_key_or_a_cursor_error(text: str) -> None:
    try:
        key = decode_cursor(text)
    except CursorError as error:
        assert "page cursor" in str(error)
    else:
        assert encode_cursor(key) == text  # one spelling per key: nothing else accepted


@settings(max_examples=40, deadline=None)
@given(st.integers(1, PATIENTS + 3))
def test_the_facade_reads_every_patient_once_in_pages(reference, page_size: int) -> None:
    host, ids = reference
    assert [p.id for p in facade(host).iter_patients(page_size)] == sorted(ids)


def test_the_last_page_says_so_and_the_limit_is_checked(reference) -> None:
    host, ids = reference
    page = host.host_patients_page(None, PATIENTS)
    assert len(page.patients) == PATIENTS and page.next_cursor is None
    first = host.host_patients_page(None, PATIENTS - 1)
    assert first.next_cursor is not None
    assert [p.id for p in host.host_patients_page(first.next_cursor, 5).patients] == [ids[-1]]
    for wrong in (0, -1, MAX_PAGE_SIZE + 1):
        with pytest.raises(InputError):
            host.host_patients_page(None, wrong)


def test_a_host_without_pages_is_listed_all_at_once(tmp_path: Path) -> None:
    class Listing:
        def __init__(self) -> None:
            self.calls = 0

        @hostimpl
        def host_find_patients(self, birth_name, first_name, birth_date, ins_matricule):
            self.calls += 1
            return [samples.patient(patient_id=f"L{n}") for n in range(3)]

    host = Listing()
    assert [p.id for p in facade(host).iter_patients(2)] == ["L0", "L1", "L2"]
    assert host.calls == 1


def test_pages_that_do_not_move_forward_are_a_conformance_error() -> None:
    class Stuck:
        @hostimpl
        def host_patients_page(self, cursor, limit):
            patients = [samples.patient(patient_id=f"S{n}") for n in range(limit)]
            return PatientPage(patients, next_cursor="k1.UzE")

    with pytest.raises(ConformanceError, match="host_patients_page"):
        list(facade(Stuck()).iter_patients(2))


class _WithoutPages:
    """An LGO written before pages existed: ``GET /patients`` is not one of its routes."""

    def __init__(self, app, status: int) -> None:
        self.app, self.status = app, status

    async def __call__(self, scope, receive, send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].endswith("/patients")
        ):
            await send({"type": "http.response.start", "status": self.status, "headers": []})
            await send({"type": "http.response.body", "body": b"Not Found"})
            return
        await self.app(scope, receive, send)


def test_pages_over_http_and_a_wrong_cursor(tmp_path: Path) -> None:
    from hostspecs.http import HostCursorError, HttpHost, HttpHostSettings
    from hostspecs.http.server import ReferenceLgo

    with (
        ReferenceLgo(tmp_path) as lgo,
        HttpHost(HttpHostSettings(url=lgo.url)) as host,
    ):
        ids = [lgo.host.host_save_patient(samples.patient(f"P{n}")).id for n in range(5)]
        assert [p.id for p in facade(host).iter_patients(2)] == ids
        with pytest.raises(HostCursorError) as caught:
            host.host_patients_page("nonsense", 2)
        assert isinstance(caught.value, CursorError) and not caught.value.transient


@pytest.mark.parametrize("status", [404, 405])
def test_an_lgo_without_pages_is_listed_all_at_once(tmp_path: Path, status: int) -> None:
    from hostspecs.http import HttpHost, HttpHostSettings
    from hostspecs.http.server import ReferenceLgo

    wrap = lambda app: _WithoutPages(app, status)  # noqa: E731
    with (
        ReferenceLgo(tmp_path, wrap=wrap) as lgo,
        HttpHost(HttpHostSettings(url=lgo.url)) as host,
    ):
        ids = [lgo.host.host_save_patient(samples.patient(f"P{n}")).id for n in range(3)]
        assert [p.id for p in facade(host).iter_patients(2)] == ids
