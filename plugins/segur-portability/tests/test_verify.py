"""``verify`` reports what was altered, removed or added, and survives hostile archives."""

from __future__ import annotations

import contextlib
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segur_portability.errors import ArchiveError
from segur_portability.verify import VerifyReport, verify_archive

from segur_core.errors import InputError


def _rewrite(path, *, drop=(), replace=None, add=None) -> bytes:
    """The archive at ``path`` with members dropped, replaced or added."""
    replace, add = replace or {}, add or {}
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            dst.writestr(info, replace.get(info.filename, src.read(info)))
        for name, data in add.items():
            dst.writestr(name, data)
    return out.getvalue()


def _inner_rewrite(data: bytes, member: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, content if info.filename == member else src.read(info))
    return out.getvalue()


def test_altered_removed_and_added_files_are_each_reported(exported):
    _runtime, _ids, result = exported
    with zipfile.ZipFile(result.path) as top:
        patient = top.read("PAT00001.ZIP")
    altered = _inner_rewrite(patient, "DATA/DISPENS.JSN", b"[]\n")
    data = _rewrite(
        result.path,
        drop={"PAT00002.ZIP"},
        replace={"PAT00001.ZIP": altered},
        add={"EXTRA.TXT": b"not from the export"},
    )
    report = verify_archive(data)
    assert not report.ok
    assert "PAT00001.ZIP" in report.of_kind("altered")
    assert "PAT00002.ZIP" in report.of_kind("missing")
    assert "EXTRA.TXT" in report.of_kind("added")
    assert "PAT00003.ZIP" not in {p.path for p in report.problems}


def test_a_document_altered_inside_a_patient_archive_is_named(exported):
    _runtime, _ids, result = exported
    with zipfile.ZipFile(result.path) as top:
        patient = top.read("PAT00001.ZIP")
    doc = "IHE_XDM/SUBSET01/DOC0001.XML"
    with zipfile.ZipFile(io.BytesIO(patient)) as inner:
        content = inner.read(doc).replace(b"<title>", b"<title>X", 1)
    report = verify_archive(
        _rewrite(result.path, replace={"PAT00001.ZIP": _inner_rewrite(patient, doc, content)})
    )
    assert f"PAT00001.ZIP/{doc}" in report.of_kind("altered")  # against DOCS.JSN
    assert "PAT00001.ZIP/IHE_XDM" in report.of_kind("invalid")  # against METADATA.XML


def test_a_data_file_breaking_its_schema_is_invalid(exported):
    _runtime, _ids, result = exported
    with zipfile.ZipFile(result.path) as top:
        patient = top.read("PAT00003.ZIP")
    broken = _inner_rewrite(patient, "DATA/PATIENT.JSN", b'[{"id": 3}]')
    report = verify_archive(_rewrite(result.path, replace={"PAT00003.ZIP": broken}))
    assert "PAT00003.ZIP/DATA/PATIENT.JSN" in report.of_kind("invalid")


def test_a_manifest_rewritten_to_match_is_caught_by_the_signature(exported):
    _runtime, _ids, result = exported
    with zipfile.ZipFile(result.path) as top:
        manifest = top.read("MANIFEST.XML").replace(b"COMPLETE", b"PARTIAL")
    report = verify_archive(_rewrite(result.path, replace={"MANIFEST.XML": manifest}))
    assert "MANIFEST.XML" in report.of_kind("altered")


def test_a_signature_from_another_authority_is_refused(exported, tmp_path):
    runtime, _ids, result = exported
    foreign = runtime.test_pki().foreign_ca
    report = verify_archive(result.path, ca_pem_file=str(foreign))
    assert report.of_kind("signature") == ["SIGN.XML"]
    unsigned = verify_archive(_rewrite(result.path, drop={"SIGN.XML"}))
    assert unsigned.of_kind("missing") == ["SIGN.XML"]


def _resigned(runtime, path, change) -> bytes:
    """The archive at ``path`` with SIGN.XML signed again (the structure's own key) over
    its references as ``change`` alters them."""
    from segur_portability.signing import signer_for
    from segur_portability.writer import PURPOSE

    from segur_core.wire.xades import sha256_b64, sign_manifest

    with zipfile.ZipFile(path) as top:
        references = [("MANIFEST.XML", sha256_b64(top.read("MANIFEST.XML")))] + [
            (name, sha256_b64(top.read(name)))
            for name in top.namelist()
            if name.startswith("PAT") or name == "TRANSVERSE.ZIP"
        ]
    sign = sign_manifest(signer_for(runtime), change(references), purpose=PURPOSE)
    return _rewrite(path, replace={"SIGN.XML": sign})


def test_a_validly_signed_reference_to_no_file_of_the_archive_is_reported(exported):
    runtime, _ids, result = exported
    data = _resigned(runtime, result.path, lambda refs: [*refs, ("../ELSEWHERE.ZIP", refs[1][1])])
    report = verify_archive(data)
    assert report.of_kind("missing") == ["../ELSEWHERE.ZIP"]
    assert report.signer is not None and not report.of_kind("signature")


def test_a_file_signed_twice_is_a_signature_problem(exported):
    runtime, _ids, result = exported
    report = verify_archive(_resigned(runtime, result.path, lambda refs: [*refs, refs[1]]))
    assert [(p.kind, p.path) for p in report.problems] == [("signature", "SIGN.XML")]
    assert "twice" in report.problems[0].detail
    same = verify_archive(_resigned(runtime, result.path, lambda refs: refs))
    assert same.ok, same.problems


def test_not_an_archive_is_a_typed_error():
    with pytest.raises(ArchiveError):
        verify_archive(b"PK\x03\x04 not really")


@given(st.binary(max_size=2048))
@settings(max_examples=60, deadline=None)
def test_any_bytes_end_in_a_report_or_a_typed_error(data):
    with contextlib.suppress(InputError):
        assert isinstance(verify_archive(data), VerifyReport)


@pytest.fixture
def archive_bytes(exported) -> bytes:
    return exported[2].path.read_bytes()


@given(st.data())
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_corrupted_archives_end_in_a_report_or_a_typed_error(archive_bytes, data):
    """Bytes flipped anywhere (directory, manifest, an inner archive...)."""
    damaged = bytearray(archive_bytes)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    try:
        report = verify_archive(bytes(damaged))
    except InputError:
        return
    assert isinstance(report, VerifyReport)
