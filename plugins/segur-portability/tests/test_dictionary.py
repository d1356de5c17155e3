"""The data dictionary of every contributing plugin's section: each field says what it
holds in English and French, and the dictionary tells an informational section (not
restored by segur import) in both languages."""

from __future__ import annotations

import pytest
from segur_portability.dictionary import dictionary_html, fields
from segur_portability.schemas import AUDIT, CONSENTS, DISPENSATIONS, DOCUMENTS, PATIENT

from segur_core.exportdata import INFORMATIONAL, data_name


def _contributed() -> dict[str, dict]:
    from segur_documents.export import VACCINATIONS
    from segur_dp.export import CONSULTATIONS, RECORDS
    from segur_eprescription.export import DISPENSATIONS as EP_DISPENSATIONS
    from segur_eprescription.export import READ
    from segur_ins.export import CHECKS, HISTORY, INSI_CALLS
    from segur_mssante.export import RECEIVED, SENT

    schemas = [VACCINATIONS, CONSULTATIONS, RECORDS, EP_DISPENSATIONS, READ, CHECKS, HISTORY]
    schemas += [INSI_CALLS, RECEIVED, SENT]
    return {schema["$id"].rsplit(":", 1)[1]: schema for schema in schemas}


CONTRIBUTED = _contributed()


def _properties(schema: dict, path: str = ""):
    item = schema.get("items", schema)
    for option in item.get("anyOf", [item]):
        for name, prop in option.get("properties", {}).items():
            yield f"{path}{name}", prop
            inner = next((o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"), prop)
            if "properties" in inner or "items" in inner:
                yield from _properties(inner, f"{path}{name}.")


@pytest.mark.parametrize("name", sorted(CONTRIBUTED))
def test_every_field_is_documented_in_both_languages(name):
    schema = CONTRIBUTED[name]
    data_name(name)  # an 8.3 file name
    assert schema[INFORMATIONAL] is True
    for key in ("title", "x-title-fr", "description", "x-description-fr"):
        assert schema[key], key
    for path, prop in _properties(schema):
        assert prop.get("title") and prop.get("x-title-fr"), path
    rows = list(fields(schema, "fr"))
    assert rows and all(len(row) == 5 for row in rows)


def test_the_dictionary_tells_informational_sections():
    sections = [("AUDIT.JSN", AUDIT), ("VACCINS.JSN", CONTRIBUTED["vaccins"])]
    sections += [("PATIENT.JSN", PATIENT), ("CONSENTS.JSN", CONSENTS)]
    english = dictionary_html(sections, "en").decode()
    french = dictionary_html(sections, "fr").decode()
    assert english.count("segur import does not restore it") == 2
    assert french.count("segur import ne le restaure pas") == 2
    restored = dictionary_html([("DOCS.JSN", DOCUMENTS), ("DISPENS.JSN", DISPENSATIONS)], "en")
    assert b"does not restore" not in restored


def test_negative_and_not_filled_in_are_told_apart_in_the_new_sections():
    english = dictionary_html([("VACCINS.JSN", CONTRIBUTED["vaccins"])], "en").decode()
    # given: a yes/no whose negative is false; lot: may be not filled in
    assert "<td>given</td><td>boolean</td>" in english
    assert "<td>lot</td><td>string</td><td>Lot number</td><td>null</td>" in english
    history = dictionary_html([("IDENTHIS.JSN", CONTRIBUTED["identhis"])], "fr").decode()
    assert "<td>traits_changed</td><td>array</td>" in history and "[] (aucun)" in history
