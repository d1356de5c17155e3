"""The data dictionary, generated from the sections' JSON Schemas, in French and in
English (``DOCUMENTATION/DICO_FR.HTM``, ``DICO_EN.HTM``).

For every field: its path in the file, its type, what it holds, and how an absent value
is told from a negative one: ``null`` is "not filled in" (the information was never
entered), while ``false`` (a boolean) or ``[]`` (a list) is a negative answer (checked,
and no / none). A field that cannot be ``null`` is always filled in.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from typing import Any

from segur_core.exportdata import INFORMATIONAL
from segur_portability.browse import STYLE

__all__ = ["dictionary_html", "fields"]

_TEXT = {
    "en": {
        "title": "Data dictionary of the portability archive",
        "intro": "Each file DATA/<NAME>.JSN of a patient's archive (PATnnnnn.ZIP) or of the "
        "transverse part (TRANSVERSE.ZIP) is a JSON array of records following the schema "
        "DOCUMENTATION/SCHEMAS/<NAME>.JSN. A null value means the information was not "
        "filled in; false (yes/no fields) or an empty list means a negative answer: it was "
        "checked and the answer is no, or none.",
        "columns": ("Field", "Type", "Meaning", "Not filled in", "Negative"),
        "null": "null",
        "never": "always filled in",
        "false": "false",
        "empty": "[] (none)",
        "na": "-",
        "file": "File",
        "informational": "Informational: kept in the archive only, segur import does not "
        "restore it into another host.",
    },
    "fr": {
        "title": "Dictionnaire des données de l'archive de portabilité",
        "intro": "Chaque fichier DATA/<NOM>.JSN de l'archive d'un patient (PATnnnnn.ZIP) ou "
        "de la partie transverse (TRANSVERSE.ZIP) est un tableau JSON d'enregistrements "
        "conformes au schéma DOCUMENTATION/SCHEMAS/<NOM>.JSN. La valeur null signifie que "
        "l'information n'a pas été renseignée ; false (champs oui/non) ou une liste vide "
        "signifie une réponse négative : la question a été posée et la réponse est non, ou "
        "aucun.",
        "columns": ("Champ", "Type", "Signification", "Non renseigné", "Négatif"),
        "null": "null",
        "never": "toujours renseigné",
        "false": "false",
        "empty": "[] (aucun)",
        "na": "-",
        "file": "Fichier",
        "informational": "Informatif : conservé dans l'archive seulement, segur import ne "
        "le restaure pas dans un autre logiciel.",
    },
}


def _types(schema: dict[str, Any]) -> tuple[list[str], bool]:
    """The JSON types of a property and whether ``null`` is one of them."""
    if "anyOf" in schema:
        found: list[str] = []
        nullable = False
        for option in schema["anyOf"]:
            kinds, null = _types(option)
            found += kinds
            nullable = nullable or null
        return found, nullable
    kind = schema.get("type")
    if kind is None and "enum" in schema:
        kind = "enum: " + " | ".join(map(str, schema["enum"]))
    kinds = kind if isinstance(kind, list) else [kind or "any"]
    return [k for k in kinds if k != "null"], "null" in kinds


def _inner(schema: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in schema:
        return next((o for o in schema["anyOf"] if o.get("type") != "null"), schema)
    return schema


def fields(schema: dict[str, Any], lang: str, prefix: str = "") -> Iterator[tuple[str, ...]]:
    """``(path, type, meaning, not filled in, negative)`` rows of a section schema."""
    text = _TEXT[lang]
    item = schema.get("items", schema)
    for name, prop in _inner(item).get("properties", {}).items():
        path = f"{prefix}{name}"
        kinds, nullable = _types(prop)
        title = prop.get("x-title-fr" if lang == "fr" else "title", name)
        description = prop.get("x-description-fr" if lang == "fr" else "description", "")
        meaning = f"{title}: {description}" if description else title
        if "boolean" in kinds:
            negative = text["false"]
        elif "array" in kinds:
            negative = text["empty"]
        else:
            negative = text["na"]
        yield (
            path,
            ", ".join(kinds),
            meaning,
            text["null"] if nullable else text["never"],
            negative,
        )
        inner = _inner(prop)
        if inner.get("type") == "object" or "object" in kinds:
            yield from fields(inner, lang, prefix=f"{path}.")
        elif "array" in kinds and isinstance(inner.get("items"), dict):
            yield from fields(inner["items"], lang, prefix=f"{path}[].")


def dictionary_html(sections: Sequence[tuple[str, dict[str, Any]]], lang: str) -> bytes:
    """The dictionary page of ``(file, schema)`` sections in ``lang`` (``fr``/``en``)."""
    text = _TEXT[lang]
    e = html.escape
    parts = []
    for file, schema in sections:
        title = schema.get("x-title-fr" if lang == "fr" else "title", file)
        description = schema.get("x-description-fr" if lang == "fr" else "description", "")
        if schema.get(INFORMATIONAL):
            description = f"{description}. {text['informational']}"
        head = "".join(f"<th>{e(c)}</th>" for c in text["columns"])
        rows = "".join(
            "<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>"
            for row in fields(schema, lang)
        )
        parts.append(
            f'<h2 id="{e(file)}">{e(title)}</h2><p>{text["file"]} : <code>{e(file)}</code>. '
            f"{e(description)}</p><table><tr>{head}</tr>{rows}</table>"
        )
    page = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"
  "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="{lang}" lang="{lang}">
<head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"/>
<title>{e(text["title"])}</title>
<style type="text/css">{STYLE}</style>
</head>
<body>
<h1>{e(text["title"])}</h1>
<p>{e(text["intro"])}</p>
{"".join(parts)}
</body>
</html>
"""
    return page.encode("utf-8")
