"""The hardened XML parser against hostile documents, plus property tests."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from segur_core import safexml
from segur_core.errors import UnsafeXMLError
from segur_core.safexml import iter_xml, make_parser, parse_xml, parse_xml_document, xml_schema

SECRET = "TOP-SECRET-CONTENT-7f3a"


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, int]]:
    """A loopback TCP listener: any connection attempt shows up as a pending accept."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server, server.getsockname()[1]


def _connection_attempted(server: socket.socket) -> bool:
    readable, _, _ = select.select([server], [], [], 0.05)
    return bool(readable)


@pytest.fixture(params=["prescan", "parsed-doctype-check"])
def layers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run hostile-input tests twice: with every layer, and with the byte pre-scan disabled
    to show that the check on the parsed document type refuses them on its own."""
    if request.param == "parsed-doctype-check":
        monkeypatch.setattr(safexml, "_prescan", lambda data: None)
    return request.param


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def test_well_formed_document_parses() -> None:
    root = parse_xml(b'<?xml version="1.0"?><!-- kept --><a xmlns="urn:x"><b c="1">t</b></a>')
    assert root.tag == "{urn:x}a"
    assert root[0].get("c") == "1"
    document = parse_xml_document(b"<!-- before --><a/>")
    assert document.getroot().tag == "a"
    assert isinstance(document.getroot().getprevious(), etree._Comment)


def test_billion_laughs(layers: str) -> None:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    bomb = f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(levels)}]><lolz>&lol9;</lolz>'
    for codec in ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        with pytest.raises(UnsafeXMLError, match="entit"):
            parse_xml(bomb.encode(codec))


def test_external_entity_file_is_not_read(secret_file: Path, layers: str) -> None:
    document = (
        f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]><r>&xxe;</r>'
    ).encode()
    with pytest.raises(UnsafeXMLError) as caught:
        parse_xml(document)
    assert SECRET not in str(caught.value)
    # the parser itself (below the DOCTYPE check) never substitutes the file content
    root = etree.fromstring(document, make_parser())
    assert SECRET not in etree.tostring(root, encoding="unicode")
    assert SECRET not in "".join(root.itertext())


def test_external_entity_http_makes_no_connection(listener, layers: str) -> None:
    server, port = listener
    document = (
        f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/x">]><r>&xxe;</r>'
    ).encode()
    with pytest.raises(UnsafeXMLError):
        parse_xml(document)
    etree.fromstring(document, make_parser())
    assert not _connection_attempted(server)


def test_parameter_entity_http_makes_no_connection(listener, layers: str) -> None:
    server, port = listener
    document = (
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;]><r/>'
    ).encode()
    with pytest.raises(UnsafeXMLError):
        parse_xml(document)
    assert not _connection_attempted(server)


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_external_dtd(listener, tmp_path: Path, scheme: str, layers: str) -> None:
    server, port = listener
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY e "{SECRET}">')
    url = f"http://127.0.0.1:{port}/evil.dtd" if scheme == "http" else dtd.as_uri()
    document = f'<!DOCTYPE r SYSTEM "{url}"><r>&e;</r>'.encode()
    with pytest.raises(UnsafeXMLError) as caught:
        parse_xml(document)
    assert SECRET not in str(caught.value)
    assert not _connection_attempted(server)
    quiet = f'<!DOCTYPE r SYSTEM "{url}"><r/>'.encode()  # no entity use: DTD itself refused
    with pytest.raises(UnsafeXMLError, match="external DTD"):
        parse_xml(quiet)
    assert not _connection_attempted(server)


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_parser_never_loads_an_external_dtd(listener, tmp_path: Path, scheme: str) -> None:
    """The parser factory alone (below every check) must not even open the DTD: a broken
    DTD file would make the parse fail if it were read; a listener would see a connect."""
    server, port = listener
    broken = tmp_path / "broken.dtd"
    broken.write_text('<!ENTITY e "x"> this is not a DTD <<<')
    url = f"http://127.0.0.1:{port}/x.dtd" if scheme == "http" else broken.as_uri()
    document = f'<!DOCTYPE r SYSTEM "{url}"><r>text</r>'.encode()
    assert etree.fromstring(document, make_parser()).text == "text"
    assert not _connection_attempted(server)


def test_undeclared_entity_reference() -> None:
    with pytest.raises(UnsafeXMLError):
        parse_xml(b"<r>&undeclared;</r>")


def test_huge_text_node_is_refused_by_the_parser_limit() -> None:
    document = b"<r>" + b"x" * 11_000_000 + b"</r>"
    with pytest.raises(UnsafeXMLError, match="limit"):
        parse_xml(document)


def test_size_limit_is_checked_before_parsing() -> None:
    document = b"<r>" + b"x" * 2000 + b"</r>"
    assert parse_xml(document).text == "x" * 2000
    with pytest.raises(UnsafeXMLError, match="too large"):
        parse_xml(document, max_bytes=1000)


def test_depth_limit() -> None:
    def nested(depth: int) -> bytes:
        return b"<a>" * depth + b"</a>" * depth

    assert parse_xml(nested(20), max_depth=20) is not None
    with pytest.raises(UnsafeXMLError, match="nested too deeply"):
        parse_xml(nested(21), max_depth=20)
    with pytest.raises(UnsafeXMLError, match="nested too deeply"):
        parse_xml(nested(100_000))


@pytest.mark.parametrize(
    "document",
    [b"", b"<r>", b"<r></s>", b"not xml", b"<r/><r/>", b"\xff\xfe\x00<", b"<r a='1' a='2'/>"],
)
def test_malformed(document: bytes) -> None:
    with pytest.raises(UnsafeXMLError):
        parse_xml(document)


def test_plain_doctype_without_declarations_is_accepted() -> None:
    assert parse_xml(b"<!DOCTYPE r><r>&amp;&#233;</r>").text == "&é"


def test_str_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        parse_xml("<r/>")  # type: ignore[arg-type]


def test_parser_options_cannot_be_relaxed() -> None:
    with pytest.raises(ValueError):
        make_parser(resolve_entities=True)


@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise_anything_else(data: bytes) -> None:
    try:
        root = parse_xml(data)
    except UnsafeXMLError:
        return
    assert isinstance(root, etree._Element)


_FRAGMENTS = [
    "<a>", "</a>", "<b x='1'/>", "<!DOCTYPE a [", "<!DOCTYPE a SYSTEM 'file:///etc/passwd'>",
    "<!ENTITY e 'x'>", "<!ENTITY % p SYSTEM 'http://127.0.0.1:9/'>", "%p;", "]>", "&e;",
    "<![CDATA[", "]]>", "<?pi data?>", "<?xml version='1.0' encoding='utf-16'?>", "<!--",
    "-->", "texte é", "&amp;", "&#0;", "&#x1F600;", "\x00", "<ns:c xmlns:ns='urn:x'>",
    "</ns:c>",
]  # fmt: skip


@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=25), st.sampled_from(["utf-8", "utf-16"]))
def test_xml_like_fragments_never_raise_anything_else(parts: list[str], codec: str) -> None:
    try:
        root = parse_xml("".join(parts).encode(codec, "surrogatepass"))
    except UnsafeXMLError:
        return
    assert isinstance(root, etree._Element)
    assert not list(root.iter(etree.Entity))


_names = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("abcdefghijklmnopqrstuvwABCDEFGHIJKLMNOPQRSTUVW_é"),
    st.text(alphabet="abcxyzABC0123456789_.-", max_size=6),
)
_text = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"
    ),
    max_size=20,
)


@st.composite
def _trees(draw: st.DrawFn, depth: int = 0) -> etree._Element:
    element = etree.Element(draw(_names))
    for name in draw(st.lists(_names, max_size=3, unique=True)):
        element.set(name, draw(_text))
    element.text = draw(_text) or None
    if depth < 3:
        for child in draw(st.lists(_trees(depth + 1), max_size=3)):
            child.tail = draw(_text) or None
            element.append(child)
    return element


@given(_trees())
def test_generated_trees_round_trip(tree: etree._Element) -> None:
    data = etree.tostring(tree, encoding="utf-8", xml_declaration=True)
    parsed = parse_xml(data)
    assert etree.tostring(parsed, method="c14n") == etree.tostring(tree, method="c14n")


# -- streamed ----------------------------------------------------------------------------------


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    return (data[at : at + size] for at in range(0, len(data), size))


@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=25), st.sampled_from([1, 5, 64, 1 << 16]))
def test_streamed_fragments_agree_with_the_whole_parse(parts: list[str], size: int) -> None:
    """A document read a piece at a time is accepted exactly when the whole-document
    parser accepts it (DOCTYPEs aside: streamed, any is refused), with the same elements."""
    data = "".join(parts).encode("utf-8", "surrogatepass")
    try:
        whole = parse_xml(data)
    except UnsafeXMLError:
        whole = None
    try:
        events = [(event, element.tag) for event, element in iter_xml(_pieces(data, size))]
    except UnsafeXMLError:
        assert whole is None or b"<!DOCTYPE" in data or b"encoding=" in data
        return
    assert whole is not None
    tags = [e.tag for e in whole.iter(tag=etree.Element)]
    assert [tag for event, tag in events if event == "start"] == tags
    assert sorted(tag for event, tag in events if event == "end") == sorted(tags)


@given(_trees(), st.sampled_from([1, 3, 100]))
def test_streamed_trees_give_every_element(tree: etree._Element, size: int) -> None:
    data = etree.tostring(tree, encoding="utf-8", xml_declaration=True)
    starts = [e.tag for event, e in iter_xml(_pieces(data, size)) if event == "start"]
    assert starts == [e.tag for e in tree.iter()]


def test_streamed_refusals() -> None:
    document = b"<a>" + b"<b/>" * 100 + b"</a>"
    with pytest.raises(UnsafeXMLError, match="too large"):
        list(iter_xml(_pieces(document, 10), max_bytes=100))
    with pytest.raises(UnsafeXMLError, match="deeply"):
        list(iter_xml([b"<a>" * 10 + b"</a>" * 10], max_depth=5))
    for truncated in (document[:-1], document[:50], b""):
        with pytest.raises(UnsafeXMLError):
            list(iter_xml(_pieces(truncated, 7)))
    with pytest.raises(UnsafeXMLError, match="DOCTYPE"):
        list(iter_xml(_pieces(b"<!DOCTYPE a><a/>", 2)))


# -- schemas -----------------------------------------------------------------------------------


def test_xml_schema_resolves_local_includes(tmp_path: Path) -> None:
    (tmp_path / "types.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:simpleType name="Code"><xs:restriction base="xs:string">'
        '<xs:pattern value="[0-9]{3}"/></xs:restriction></xs:simpleType></xs:schema>'
    )
    main = tmp_path / "main.xsd"
    main.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:include schemaLocation="types.xsd"/>'
        '<xs:element name="code" type="Code"/></xs:schema>'
    )
    schema = xml_schema(main)
    assert schema.validate(parse_xml(b"<code>123</code>"))
    assert not schema.validate(parse_xml(b"<code>12a</code>"))


def test_xml_schema_refuses_remote_includes(tmp_path: Path, listener) -> None:
    server, port = listener
    main = tmp_path / "main.xsd"
    main.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        f'<xs:include schemaLocation="http://127.0.0.1:{port}/types.xsd"/>'
        '<xs:element name="code" type="xs:string"/></xs:schema>'
    )
    with pytest.raises(UnsafeXMLError, match="remote"):
        xml_schema(main)
    assert not _connection_attempted(server)


def test_xml_schema_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnsafeXMLError, match="not found"):
        xml_schema(tmp_path / "absent.xsd")


# -- the official files ------------------------------------------------------------------------

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CDA_SCHEMA = SHARED / "cisis" / "TestContenuCDA-3-0" / "infrastructure" / "cda" / "CDA_extended.xsd"


def _official_xml() -> list[Path]:
    roots = [SHARED / "cisis", SHARED / "insi"]
    suffixes = {".xml", ".xsd", ".sch", ".xsl", ".wsdl"}
    return sorted(
        path for root in roots if root.is_dir() for path in root.rglob("*")
        if path.suffix.lower() in suffixes
    )  # fmt: skip


def test_official_files_are_accepted() -> None:
    """The hardened parser must not get in the way of real documents: every official
    CI-SIS/INSi XML file parses, except the W3C meta-schema, which declares entities."""
    files = _official_xml()
    if not files:
        pytest.skip("shared CI-SIS/INSi files not available (../shared)")
    refused = []
    for path in files:
        try:
            parse_xml(path.read_bytes())
        except UnsafeXMLError as error:
            refused.append((path.name, str(error)))
    assert [(name, "entit" in why) for name, why in refused] in ([], [("XMLSchema.xsd", True)])


def test_official_cda_schema_compiles_from_local_files() -> None:
    if not CDA_SCHEMA.is_file():
        pytest.skip("shared CDA schema not available (../shared)")
    schema = xml_schema(CDA_SCHEMA)
    assert not schema.validate(parse_xml(b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>'))


def test_shared_parses_give_one_tree_per_bytes_object_inside_the_block_only():
    data = b"<a><b>1</b></a>"
    twin = bytes(bytearray(data))  # equal, another object
    assert parse_xml(data) is not parse_xml(data)  # outside the block: a parse each
    with safexml.shared_parses():
        root = parse_xml(data)
        assert parse_xml(data, max_bytes=1000) is root
        assert parse_xml(twin) is not root  # equal bytes are not the same document
        assert parse_xml(data, max_depth=10) is not root  # another depth limit: checked
        with pytest.raises(UnsafeXMLError, match="too large"):
            parse_xml(data, max_bytes=4)  # each call's size limit, even for a kept tree
        with pytest.raises(UnsafeXMLError):
            parse_xml(b"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>")
    assert parse_xml(data) is not root


def test_shared_parses_keep_a_bounded_number_of_trees():
    documents = [f"<a>{n}</a>".encode() for n in range(safexml.MAX_SHARED + 5)]
    with safexml.shared_parses():
        first = [parse_xml(d) for d in documents]
        again = [parse_xml(d) for d in documents]
    kept = sum(a is b for a, b in zip(first, again, strict=True))
    assert kept == safexml.MAX_SHARED
    large = b"<a>" + b"x" * safexml.MAX_SHARED_BYTES + b"</a>"  # over the bytes kept
    small = b"<b/>"
    with safexml.shared_parses():
        assert parse_xml(large, max_bytes=len(large)) is not parse_xml(large, max_bytes=len(large))
        assert parse_xml(small) is parse_xml(small)
