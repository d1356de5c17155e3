"""No repr or str of a segur value shows a patient's identifiers or anyone's name.

Reprs end up in logs, tracebacks and debugger output. Every attrs class of the core and
of every installed plugin is built with recognisable values (each field its own marker);
the markers of personal fields (by name, below) and of byte payloads must not appear in
its repr or str, nor in those of the classes that contain it. A class with a personal
field that this test cannot build fails the test: say how to build it in ``BUILDERS``.
"""

from __future__ import annotations

import collections.abc
import datetime as dt
import enum
import importlib
import itertools
import pkgutil
import types
import typing
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import attrs
import pytest

from segur_core.errors import SegurError
from segur_core.model import BirthDate, IdentityStatus

#: The core and every installed plugin (entry-point group ``segur``).
PACKAGES = sorted(
    {"segur_core"} | {ep.value.split(":")[0].split(".")[0] for ep in entry_points(group="segur")}
)

#: Fields that hold a NIR, an INS, a patient identifier, a name or a contact, wherever
#: they are.
PERSONAL = frozenset(
    {
        "nir",
        "ndp",  # the Dossier Pharmaceutique's patient identifier
        "insured_nir",
        "matricule",
        "birth_name",
        "first_names",
        "first_name",
        "given_name",
        "given_names",
        "family_name",
        "used_name",
        "used_first_name",
        "birth_date",
        "birth_time",
        "birth_place",
        "email",
        "phone",
        "contact",
        "recipient",  # a Mon Espace Santé address is the INS
        "recipients",
        "mssante_address",
        "local_ids",
        "prescriber",
        "attending_physician",
        "person",
        "legal_authenticator",
        "source_patient_id",
        "source_patient_info",
    }
)
#: Fields personal in one class only (``patient_id`` is the host's own key elsewhere).
PERSONAL_IN = {
    "segur_core.cdaheader.RecordTarget": {"ids"},
    "segur_core.xds.metadata.DocumentEntry": {"patient_id"},
    "segur_core.xds.metadata.SubmissionSet": {"patient_id"},
    "segur_dmp.sandbox.store.StoredDocument": {"patient_id"},
    "segur_dmp.vihf.VIHFClaims": {"attributes"},
}
#: Byte fields that carry no personal data (card answers to reset, application ids).
HARMLESS_BYTES = {
    "segur_vitale.apdu.Command": {"data"},
    "segur_vitale.monitor.CardEvent": {"atr"},
    "segur_vitale.vitale.VitaleCard": {"atr"},
    "segur_vitale.virtual.card.DF": {"aid"},
}
#: How to build the values a generic builder cannot guess.
BUILDERS: dict[type, Any] = {BirthDate: lambda: BirthDate(1931, 7, 14)}
#: Field values a validator restricts (``module.Class.field``: value).
FIELD_VALUES = {
    "segur_documents.models.DocumentContext.confidentiality": "N",
    "segur_documents.models.DocumentContext.local_id_root": "1.2.250.1",
    "segur_core.model.Identity.status": IdentityStatus.QUALIFIED,  # a document names the INS
    "segur_dp.model.DPPatient.nir": "2840375123456",  # checked: a personal value given here
    "segur_dp.model.DPPatient.ndp": "NDP7B3E19C0A4",
    "segur_dp.model.Dossier.ndp": "NDP7B3E19C0A4",
}


class Unbuildable(Exception):
    pass


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _classes() -> list[type]:
    found: dict[str, type] = {}
    for package in PACKAGES:
        root = importlib.import_module(package)
        names = [package] + [m.name for m in pkgutil.walk_packages(root.__path__, package + ".")]
        for name in names:
            if ".scaffold." in name or name.endswith(".__main__"):
                continue
            module = importlib.import_module(name)
            for obj in vars(module).values():
                if isinstance(obj, type) and obj.__module__ == name and attrs.has(obj):
                    found[_name(obj)] = obj
    return [found[k] for k in sorted(found)]


class Builder:
    """Builds a value of any field type, each string and byte string a new marker, and
    remembers the markers of personal fields."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)
        self.secrets: list[str] = []
        self.depth = 0

    def marker(self) -> str:
        return f"Zq{next(self.counter):03d}x"

    def instance(self, cls: type, *, personal: bool = False) -> Any:
        if cls in BUILDERS:
            value = BUILDERS[cls]()
            if personal:
                self.secrets += [str(value), repr(value)]
            return value
        hints = typing.get_type_hints(cls, vars(importlib.import_module(cls.__module__)))
        personal_here = PERSONAL | PERSONAL_IN.get(_name(cls), set())
        harmless = HARMLESS_BYTES.get(_name(cls), set())
        values = {}
        self.depth += 1
        try:
            for field in attrs.fields(cls):
                if not field.init:
                    continue
                key = field.alias or field.name
                if f"{_name(cls)}.{field.name}" in FIELD_VALUES:
                    values[key] = FIELD_VALUES[f"{_name(cls)}.{field.name}"]
                    if field.name in personal_here and isinstance(values[key], str):
                        self.secrets.append(values[key])
                    continue
                values[key] = self.value(
                    hints[field.name],
                    personal=field.name in personal_here,
                    harmless=field.name in harmless,
                )
        finally:
            self.depth -= 1
        return cls(**values)

    def value(self, kind: Any, *, personal: bool, harmless: bool = False) -> Any:
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        if origin in (typing.Union, types.UnionType):
            present = [a for a in args if a is not type(None)]
            return self.value(present[0], personal=personal, harmless=harmless)
        if kind is str or kind is Any:
            text = self.marker()
            if personal:
                self.secrets.append(text)
            return text
        if kind is bytes:
            text = self.marker()
            if personal or not harmless:
                self.secrets.append(text)
            return text.encode()
        if kind is bool:
            return True
        if kind is int:
            return 3
        if kind is float:
            return 1.5
        if kind is dt.datetime:
            return dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        if kind is dt.date:
            return dt.date(2024, 1, 2)
        if kind is dt.timedelta:
            return dt.timedelta(minutes=5)
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            return next(iter(kind))
        if isinstance(kind, type) and issubclass(kind, Path):
            return Path("/tmp") / self.marker()
        if isinstance(kind, type) and attrs.has(kind):
            # a nested value: its own personal fields are its class's
            return self.instance(kind, personal=personal and kind in BUILDERS)
        if origin in (tuple, list, frozenset, set) and self.depth > 3:
            return origin()  # recursive types (a TLV's children) stop here
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return (self.value(args[0], personal=personal, harmless=harmless),)
            return tuple(self.value(a, personal=personal, harmless=harmless) for a in args)
        if origin in (list, frozenset, set):
            return origin([self.value(args[0], personal=personal, harmless=harmless)])
        if origin in (dict, collections.abc.Mapping):
            return {self.value(args[0], personal=False): self.value(args[1], personal=personal)}
        raise Unbuildable(f"no value for {kind!r}")


def _personal_fields(cls: type) -> set[str]:
    personal = PERSONAL | PERSONAL_IN.get(_name(cls), set())
    return {f.name for f in attrs.fields(cls) if f.name in personal}


CLASSES = _classes()


def test_the_walk_finds_the_models_of_the_core_and_the_plugins():
    names = {_name(c) for c in CLASSES}
    assert {"segur_core.model.CardReading", "segur_core.cdaheader.RecordTarget"} <= names
    assert {n.split(".")[0] for n in names} == set(PACKAGES)


@pytest.mark.parametrize("cls", CLASSES, ids=_name)
def test_no_repr_shows_personal_data(cls):
    builder = Builder()
    try:
        value = builder.instance(cls)
    except (Unbuildable, NameError, TypeError, ValueError, SegurError) as exc:
        if _personal_fields(cls):
            pytest.fail(f"{_name(cls)} holds personal fields but cannot be built ({exc})")
        pytest.skip(f"not built, and no personal field: {exc}")
    shown = repr(value) + "\n" + str(value)
    leaked = [s for s in builder.secrets if s in shown]
    assert not leaked, f"{_name(cls)} shows {leaked} in:\n{shown}"
