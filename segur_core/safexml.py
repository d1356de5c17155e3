"""THE hardened XML parser: every XML document that enters segur goes through here.

Messages from national services, documents from peers, files from disk: all are parsed
with :func:`parse_xml` (or :func:`parse_xml_document`), which

- never expands entities, never loads a DTD, never touches the network;
- refuses any DOCTYPE that declares entities or points at an external DTD, and any
  leftover entity reference (billion laughs, XXE, external DTD tricks);
- refuses any DOCTYPE with declarations in its internal subset: an ``<!ATTLIST>`` there
  gives attributes default values, which libxml2 applies to ``xmlns`` even with
  ``attribute_defaults`` off (a CDA without a namespace would then pass as HL7 v3);
- refuses documents larger than ``max_bytes`` (before parsing) or deeper than
  ``max_depth`` (libxml2 itself stops at 256 levels while parsing; a lower limit is
  checked on the tree right after, in C);
- keeps libxml2's own safety limits (``huge_tree=False``: a single text node is limited
  to 10 MB, names and attribute values too);
- turns every parser failure into :class:`~segur_core.errors.UnsafeXMLError`.

Inside :func:`shared_parses`, :func:`parse_xml` of the very same ``bytes`` object parses
it once and hands every caller the same tree: how the portability export's header read
and a plugin's section read one document with one parse (readers that never modify it).

:func:`xml_schema` compiles trusted local XSD files, resolving ``xs:include`` and
``xs:import`` only from the local filesystem.
"""

from __future__ import annotations

import contextvars
import functools
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lxml import etree

from segur_core.errors import UnsafeXMLError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "iter_xml",
    "make_parser",
    "parse_xml",
    "parse_xml_document",
    "shared_parses",
    "xml_schema",
]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_DEPTH = 256
#: libxml2 refuses deeper documents by itself unless ``huge_tree`` is set.
_LIBXML2_MAX_DEPTH = 256

_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": False,
    "remove_pis": False,
    "attribute_defaults": False,
    # NOT collect_ids=False: with lxml 6.1 / libxml2 2.14 it makes the parser load an
    # external DTD from disk (see tests/security/test_safexml.py::test_parser_never_loads).
}


def make_parser(**overrides: Any) -> etree.XMLParser:
    """A new lxml parser with the hardened options (for the rare API needing a parser
    object; :func:`parse_xml` adds the DOCTYPE, size and depth checks on top)."""
    forbidden = {"resolve_entities", "no_network", "load_dtd", "dtd_validation", "huge_tree"}
    if forbidden & overrides.keys():
        raise ValueError(f"these parser options cannot be relaxed: {sorted(forbidden)}")
    return etree.XMLParser(**{**_PARSER_OPTIONS, **overrides})


_local = threading.local()


def _thread_parser() -> etree.XMLParser:
    """One hardened parser per thread (lxml parsers must not be shared between threads)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = make_parser()
    return parser


@functools.lru_cache(maxsize=16)
def _too_deep(max_depth: int) -> etree.XPath:
    """An XPath true when some element sits deeper than ``max_depth`` (evaluated in C)."""
    return etree.XPath("boolean(/" + "/".join(["*"] * (max_depth + 1)) + ")")


def _check_size(data: bytes, max_bytes: int) -> None:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"XML must be given as bytes, not {type(data).__name__}")
    if len(data) > max_bytes:
        raise UnsafeXMLError(
            f"XML document too large: {len(data)} bytes, limit {max_bytes}",
            hint="raise the size limit only for trusted sources",
        )
    if not data:
        raise UnsafeXMLError("empty XML document")


_DOCTYPE = "<!DOCTYPE"
_ENTITY = "<!ENTITY"


def _prescan_codec(data: bytes) -> str:
    """The byte layout to search markers in, from the first bytes (as libxml2 does)."""
    head = data[:4]
    if head.startswith((b"\xff\xfe", b"<\x00")) and not head.startswith(b"\xff\xfe\x00\x00"):
        return "utf-16-le"
    if head.startswith((b"\xfe\xff", b"\x00<")) and not head.startswith(b"\x00\x00"):
        return "utf-16-be"
    return "ascii"  # UTF-8 and every ASCII-compatible encoding


def _prescan(data: bytes) -> None:
    """Refuse entity declarations before any parsing (a fast byte search; the check of
    the parsed document type below stays the definitive one, e.g. for UTF-32)."""
    codec = _prescan_codec(data)
    if _DOCTYPE.encode(codec) in data and _ENTITY.encode(codec) in data:
        raise UnsafeXMLError(
            "XML document declares entities in its DOCTYPE, which is not allowed",
            hint="entity declarations are how 'billion laughs' and XXE attacks work",
        )


def _parse(data: bytes, max_bytes: int, max_depth: int) -> etree._ElementTree:
    _check_size(data, max_bytes)
    data = bytes(data)
    _prescan(data)
    try:
        root = etree.fromstring(data, _thread_parser())
    except etree.XMLSyntaxError as error:
        raise UnsafeXMLError(f"malformed or unsafe XML: {_describe(error)}") from None
    except (ValueError, LookupError) as error:  # e.g. unknown encoding declaration
        raise UnsafeXMLError(f"malformed XML: {error}") from None
    if max_depth < _LIBXML2_MAX_DEPTH and _too_deep(max_depth)(root):
        raise UnsafeXMLError(
            f"XML nested too deeply: more than {max_depth} levels",
            hint="such nesting is not expected from any health document",
        )
    if root is None:
        raise UnsafeXMLError("XML document without a root element")
    tree = root.getroottree()
    _check_doctype(tree)
    _check_no_entity_references(root)
    return tree


def _describe(error: etree.XMLSyntaxError) -> str:
    message = str(error.msg or error).strip()
    if "excessive depth" in message.lower():
        return f"{message} (nested too deeply)"
    if "huge" in message.lower():
        return f"{message} (a text node or name exceeds the parser limits)"
    return message


def _check_doctype(tree: etree._ElementTree) -> None:
    info = tree.docinfo
    if info.system_url or info.public_id:
        raise UnsafeXMLError(
            "XML document refers to an external DTD, which is not allowed",
            hint="documents must not carry a DOCTYPE with a SYSTEM or PUBLIC identifier",
        )
    dtd = info.internalDTD
    if dtd is None:
        return
    if any(True for _ in dtd.iterentities()):  # general and parameter
        raise UnsafeXMLError(
            "XML document declares entities in its DOCTYPE, which is not allowed",
            hint="entity declarations are how 'billion laughs' and XXE attacks work",
        )
    if _has_declarations(tree):
        raise UnsafeXMLError(
            "XML document has declarations in its DOCTYPE (an internal DTD subset), "
            "which is not allowed",
            hint="<!ATTLIST> defaults can add attributes, a namespace included, "
            "that the bytes do not carry",
        )


_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[")


def _has_declarations(tree: etree._ElementTree) -> bool:
    """Whether the DOCTYPE keeps declarations (``<!ATTLIST>`` and ``<!NOTATION>`` are not
    visible through lxml's DTD object): libxml2 serialises a DOCTYPE with ``[...]`` exactly
    when its internal subset holds some. CDATA is stripped by the parser, so ``<!DOCTYPE``
    can appear in the output only as itself or inside a comment or processing instruction
    (which errs on the side of refusing). Only paid for documents with a DOCTYPE."""
    dtd = tree.docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterelements()):
        return True
    return _SUBSET.search(etree.tostring(tree)) is not None


def _check_no_entity_references(root: etree._Element) -> None:
    for node in root.iter(etree.Entity):
        raise UnsafeXMLError(f"XML document uses the entity reference {node.text!s}")


#: The trees parsed inside :func:`shared_parses`: ``id(data) -> (data, max_depth, root)``.
_SHARED: contextvars.ContextVar[dict[int, tuple[bytes, int, etree._Element]] | None]
_SHARED = contextvars.ContextVar("segur_shared_parses", default=None)
#: At most this many trees, of documents of at most this many bytes in all, are kept by
#: one :func:`shared_parses` block (memory stays bounded for a patient with many or large
#: documents: the others are parsed as usual, each time).
MAX_SHARED = 32
MAX_SHARED_BYTES = 4 * 1024 * 1024


@contextmanager
def shared_parses() -> Iterator[None]:
    """Within this block (this thread or task), :func:`parse_xml` of the very same
    ``bytes`` object (``is``, not equal bytes) with the same ``max_depth`` parses once
    and returns the same tree, checks included (the size limit of each call too).
    For readers of one document that never modify the tree; kept until the block
    ends."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def parse_xml(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> etree._Element:
    """Parse untrusted XML into its root element, or raise ``UnsafeXMLError``.

    ``max_depth`` can only lower the limit: libxml2 refuses documents nested deeper than
    256 levels by itself (``huge_tree`` stays off). See :func:`shared_parses`.
    """
    shared = _SHARED.get()
    if shared is None or type(data) is not bytes:
        return _parse(data, max_bytes, max_depth).getroot()
    held = shared.get(id(data))
    if held is not None and held[0] is data and held[1] == max_depth:
        _check_size(data, max_bytes)
        return held[2]
    root = _parse(data, max_bytes, max_depth).getroot()
    kept = sum(len(held[0]) for held in shared.values())
    if len(shared) < MAX_SHARED and kept + len(data) <= MAX_SHARED_BYTES:
        shared[id(data)] = (data, max_depth, root)
    return root


def parse_xml_document(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> etree._ElementTree:
    """Like :func:`parse_xml` but returns the document (doctype, processing instructions
    and comments around the root element included)."""
    return _parse(data, max_bytes, max_depth)


def iter_xml(
    chunks: Iterable[bytes],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Iterator[tuple[str, etree._Element]]:
    """Parse untrusted UTF-8 XML given a piece at a time, yielding lxml's ``("start",
    element)`` and ``("end", element)`` events as the pieces arrive: what reads a
    document too large to hold (a massive export's signature) and drops each element
    once used (``element.getparent().remove(...)``; the tail of the element just ended
    may still be parsed, so remove the ones before it).

    The same refusals as :func:`parse_xml`, stricter on the document type: any DOCTYPE
    is refused (nothing streamed needs one), the document is read as UTF-8 whatever it
    declares, and the size and depth are counted as it goes. A truncated document ends
    in ``UnsafeXMLError`` once the last piece is read.
    """
    parser = etree.XMLPullParser(events=("start", "end"), encoding="utf-8", **_PARSER_OPTIONS)
    size, depth, carry = 0, 0, b""
    marker = _DOCTYPE.encode()
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise UnsafeXMLError(
                    f"XML document too large: more than {max_bytes} bytes",
                    hint="raise the size limit only for trusted sources",
                )
            seen = carry + chunk
            if marker in seen:
                raise UnsafeXMLError("XML document has a DOCTYPE, which is not allowed here")
            carry = seen[-(len(marker) - 1) :]
            parser.feed(chunk)
            for event, element in parser.read_events():
                depth += 1 if event == "start" else -1
                if depth > max_depth:
                    raise UnsafeXMLError(f"XML nested too deeply: more than {max_depth} levels")
                yield event, element
        if not size:
            raise UnsafeXMLError("empty XML document")
        parser.close()
    except etree.XMLSyntaxError as error:
        raise UnsafeXMLError(f"malformed or unsafe XML: {_describe(error)}") from None
    for event, element in parser.read_events():  # what the last piece held
        yield event, element


# -- trusted schemas -------------------------------------------------------------------------


class _LocalOnlyResolver(etree.Resolver):
    """Resolves schema includes/imports from local files only; records refused URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[str] = []

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        if not system_url:
            return None
        parsed = urlparse(system_url)
        if parsed.scheme in ("", "file") or (len(parsed.scheme) == 1 and system_url[1] == ":"):
            path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(system_url)
            if path.is_file():
                return self.resolve_filename(str(path), context)
            return None  # let libxml2 report the missing file
        self.refused.append(system_url)
        # An empty, valid schema in place of the remote one; the refusal is raised after.
        empty = b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>'
        return self.resolve_string(empty, context)


def xml_schema(path: Path | str) -> etree.XMLSchema:
    """Compile a trusted local XSD; includes and imports come from local files only.

    Raises ``UnsafeXMLError`` when the schema refers to a remote location and
    ``UnsafeXMLError`` too when it cannot be read or compiled (with the reason).
    """
    path = Path(path)
    if not path.is_file():
        raise UnsafeXMLError(f"XML schema not found: {path}")
    resolver = _LocalOnlyResolver()
    parser = make_parser()
    parser.resolvers.add(resolver)
    try:
        document = etree.parse(str(path), parser)
        schema = etree.XMLSchema(document)
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError, OSError) as error:
        raise UnsafeXMLError(f"cannot compile the XML schema {path}: {error}") from None
    if resolver.refused:
        raise UnsafeXMLError(
            f"the XML schema {path} refers to remote locations {resolver.refused}",
            hint="vendor the referenced schemas locally and point schemaLocation at them",
        )
    return schema
