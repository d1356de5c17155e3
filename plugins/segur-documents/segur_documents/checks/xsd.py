"""XSD check against the kit's ``CDA_extended.xsd`` (CDA R2 + French extensions)."""

from __future__ import annotations

import threading
from pathlib import Path

from lxml import etree

from segur_core.errors import ConfigError, ValidationIssue
from segur_core.safexml import xml_schema
from segur_documents.checks.structural import element_path

__all__ = ["XsdChecker"]

_cache: dict[Path, etree.XMLSchema] = {}
_lock = threading.Lock()


def _readable(root: etree._Element, path: str | None) -> str | None:
    """libxml2's ``/*/*[9]`` as ``/ClinicalDocument/titel[1]`` when it can be resolved."""
    if not path:
        return None
    try:
        found = root.getroottree().xpath(path)
    except etree.XPathError:
        return path
    if found and isinstance(found[0], etree._Element):
        return element_path(found[0])
    return path


class XsdChecker:
    """Validates a parsed CDA against an XSD (loaded once per process and path)."""

    source = "xsd"

    def __init__(self, xsd: Path) -> None:
        self.path = Path(xsd).resolve()
        with _lock:
            schema = _cache.get(self.path)
            if schema is None:
                try:
                    schema = xml_schema(self.path)
                except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
                    raise ConfigError(
                        f"the CDA schema cannot be loaded: {exc}", key="documents.xsd_path"
                    ) from None
                _cache[self.path] = schema
        self.schema = schema

    def check(self, root: etree._Element) -> list[ValidationIssue]:
        # XMLSchema objects are not thread-safe
        with _lock:
            valid = self.schema.validate(root)
            log = list(self.schema.error_log) if not valid else []
        return [
            ValidationIssue(
                entry.message,
                location=_readable(root, entry.path) or f"line {entry.line}",
                severity="error",
                source=self.source,
                rule=entry.type_name,
            )
            for entry in log
        ]
