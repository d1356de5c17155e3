"""``INDEX.HTM`` of a patient's archive (and of the transverse part): a page a person
opens in a browser to read the structured data as tables and reach every document and
its PDF rendering. XHTML, as the XDM ``INDEX.HTM`` is, naming the issuing structure."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

__all__ = ["STYLE", "index_page"]

#: The style sheet of the pages (INDEX.HTM, the data dictionary).
STYLE = (
    "table{border-collapse:collapse}"
    "td,th{border:1px solid #999;padding:2px 4px;vertical-align:top}.nr{color:#888}"
)

_e = html.escape


def _value(value: Any) -> str:
    if value is None:
        return '<span class="nr">non renseigné</span>'
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dict):
        rows = "".join(f"<tr><th>{_e(k)}</th><td>{_value(v)}</td></tr>" for k, v in value.items())
        return f"<table>{rows}</table>"
    if isinstance(value, list):
        if not value:
            return '<span class="none">aucun</span>'
        return "<ul>" + "".join(f"<li>{_value(v)}</li>" for v in value) + "</ul>"
    return _e(str(value))


def _records(records: Sequence[Any]) -> str:
    if not records:
        return "<p>aucun</p>"
    if all(isinstance(r, dict) for r in records):
        keys = list(dict.fromkeys(k for r in records for k in r))
        head = "".join(f"<th>{_e(k)}</th>" for k in keys)
        body = "".join(
            "<tr>" + "".join(f"<td>{_value(r.get(k))}</td>" for k in keys) + "</tr>"
            for r in records
        )
        return f"<table><tr>{head}</tr>{body}</table>"
    return _value(list(records))


def index_page(
    *,
    title: str,
    struct_id: str,
    struct_name: str,
    documents: Sequence[dict[str, Any]],
    sections: Sequence[tuple[str, str, bytes]],
) -> bytes:
    """The page: ``documents`` (their DOCS.JSN records) as links, then each section
    ``(file, description, JSON bytes)`` as a table."""
    links = "".join(
        f'<li><a href="{_e(d["file"])}">{_e(d["title"] or d["file"])}</a>'
        + (f' (<a href="{_e(d["pdf"])}">PDF</a>)' if d.get("pdf") else "")
        + f" {_e(str(d['created_at'])[:10])}</li>"
        for d in documents
    )
    parts = []
    for file, description, data in sections:
        try:
            records = json.loads(data)
        except ValueError:
            records = None
        table = _records(records) if isinstance(records, list) else "<p>-</p>"
        parts.append(f'<h2><a href="{_e(file)}">{_e(file)}</a></h2><p>{_e(description)}</p>{table}')
    page = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"
  "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="fr" lang="fr">
<head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"/>
<title>{_e(title)}</title>
<style type="text/css">{STYLE}</style>
</head>
<body>
<h1>{_e(title)}</h1>
<p>Emetteur : <span class="StructNom">{_e(struct_name)}</span>
(<span class="StructIdNat">{_e(struct_id)}</span>)</p>
<p>Ces documents contiennent des donnees de sante a caractere personnel, couvertes par le
secret medical. "non renseigné" : la donnee n'a pas ete saisie ; "non" ou "aucun" : la
reponse est negative.</p>
<h2>Documents</h2>
<ul>{links}</ul>
{"".join(parts)}
<p><a href="README.TXT">README.TXT</a></p>
</body>
</html>
"""
    return page.encode("utf-8")
