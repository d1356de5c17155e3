"""PDF/A renderings through the kit's display stylesheet (lxml's XSLT 1.0, no Saxon, no
schematron) and WeasyPrint: the official examples, segur's own documents, hostile input."""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import io
import threading
from pathlib import Path
from typing import ClassVar

import pytest
from lxml import etree
from segur_documents.display import Renderer
from segur_documents.testing import rendering_unavailable

from segur_core.errors import UnsafeXMLError

pypdf = pytest.importorskip("pypdf")

_HL7 = {"h": "urn:hl7-org:v3"}


@pytest.fixture(scope="session")
def renderer(kit_path) -> Renderer:
    reason = rendering_unavailable()
    if reason:
        pytest.skip(reason)
    return Renderer.find(kit_path)


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _is_pdfa_1b(pdf: bytes) -> bool:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    xmp = reader.xmp_metadata
    assert xmp is not None, "no XMP metadata"
    ns = "http://www.aiim.org/pdfa/ns/id/"
    parts = {
        d.getAttributeNS(ns, "part") for d in xmp.rdf_root.getElementsByTagName("rdf:Description")
    }
    levels = {
        d.getAttributeNS(ns, "conformance")
        for d in xmp.rdf_root.getElementsByTagName("rdf:Description")
    }
    return pdf.startswith(b"%PDF-1.4") and "1" in parts and "B" in levels


def _shown(cda: bytes) -> tuple[str, str]:
    """The document's title and the patient's birth name, as the stylesheet shows them
    (whitespace folded; the birth name in capitals)."""
    root = etree.fromstring(cda)
    title = " ".join("".join(root.find("h:title", _HL7).itertext()).split())
    names = root.findall(".//h:recordTarget/h:patientRole/h:patient/h:name/h:family", _HL7)
    birth = [n for n in names if n.get("qualifier") == "BR"] or names
    return title, " ".join(birth[0].text.split()).upper()


@pytest.mark.parametrize(
    "example", ["VAC-NOTE_2023.01.xml", "VAC_2023.01.xml", "eDISP-MED_2024.01.xml"]
)
def test_the_official_examples_render_as_pdfa(renderer, kit_path: Path, example: str):
    cda = (kit_path / "ExemplesCDA" / example).read_bytes()
    pdf = renderer.pdf(cda)
    assert _is_pdfa_1b(pdf)
    title, name = _shown(cda)
    text = _text(pdf)
    assert title.upper() in text.upper()
    assert name in text


def test_segur_documents_render_as_pdfa(renderer):
    from segur_documents.builders import build_bpm, build_entretien, build_vaccination
    from segur_documents.demo import demo_contents
    from segur_documents.testing import sample_context

    contents = demo_contents(dt.date(2024, 10, 2))
    ctx = sample_context()
    for build, key in (
        (build_vaccination, "vaccination"),
        (build_entretien, "entretien"),
        (build_bpm, "bpm"),
    ):
        cda = build(contents[key], ctx).document.content
        pdf = renderer.pdf(cda)
        assert _is_pdfa_1b(pdf), key
        title, name = _shown(cda)
        text = _text(pdf)
        assert title.upper() in text.upper(), key
        assert name in text, key


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(_PNG)

    def log_message(self, *args) -> None:
        pass


_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def web():
    """A real HTTP server on loopback that counts what is asked of it."""
    _Counting.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Counting.hits
    server.shutdown()
    server.server_close()


def test_a_hostile_cda_renders_without_the_network(renderer, kit_path: Path, web):
    url, hits = web
    cda = (kit_path / "ExemplesCDA" / "VAC-NOTE_2023.01.xml").read_bytes()
    hostile = (
        f'<text><paragraph>HOSTILE <renderMultiMedia referencedObject="IMG1"/>'
        f'<linkHtml href="{url}/link">lien</linkHtml></paragraph>'
        f"<script>document.title='SCRIPTED'</script><img src=\"{url}/img.png\"/>"
    ).encode()
    media = (
        f'<entry><observationMedia classCode="OBS" moodCode="EVN" ID="IMG1">'
        f'<value xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="ED" '
        f'mediaType="image/png"><reference value="{url}/media.png"/></value>'
        f"</observationMedia></entry><entry>"
    ).encode()
    at = cda.index(b"<text>", cda.index(b"<section>"))
    cda = cda[:at] + hostile + cda[at + len(b"<text>") :]
    at = cda.index(b"<entry>", at)
    cda = cda[:at] + media + cda[at + len(b"<entry>") :]

    page = renderer.html(cda)
    assert b"<script" not in page
    pdf = renderer.pdf(cda)
    assert "HOSTILE" in _text(pdf) and _is_pdfa_1b(pdf)

    doctype = f'<!DOCTYPE ClinicalDocument [<!ENTITY x SYSTEM "{url}/entity">]>'
    entity = cda.replace(b"<ClinicalDocument", doctype.encode() + b"<ClinicalDocument", 1)
    entity = entity.replace(b"<title>", b"<title>&x;", 1)
    with pytest.raises(UnsafeXMLError):
        renderer.pdf(entity)
    assert hits == []


def test_the_layout_reads_only_embedded_data(renderer, tmp_path: Path, web):
    url, hits = web
    local = tmp_path / "local.png"
    local.write_bytes(_PNG)
    embedded = "data:image/png;base64," + base64.b64encode(_PNG).decode()

    def page(src: str) -> bytes:
        return (
            '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title>'
            f'<link rel="stylesheet" href="{url}/style.css"/>'
            f'<style>@import url("{url}/import.css"); p {{ background: url("{url}/bg.png") }}'
            f'</style></head><body><p>page</p><img src="{src}"/>'
            f'<object data="{url}/object.svg"></object></body></html>'
        ).encode()

    def images(pdf: bytes) -> int:
        return sum(len(p.images) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)

    assert images(renderer.layout(page(f"{url}/img.png"))) == 0
    assert images(renderer.layout(page(local.as_uri()))) == 0
    assert hits == []
    assert images(renderer.layout(page(embedded))) == 1  # embedded data is shown
