"""All checks of a CDA document in one call: structure, XSD, official schematrons."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import attrs

from segur_core.errors import SegurError, UnsafeXMLError, ValidationIssue
from segur_core.model import CheckIssue, DocumentCheck
from segur_core.safexml import parse_xml
from segur_documents.cda import MAX_XML_BYTES
from segur_documents.checks.kit import Kit, default_cache_dir, find_kit
from segur_documents.checks.schematron import (
    SchematronRunner,
    saxon_available,
    schematrons_for,
    unchecked_volets,
)
from segur_documents.checks.structural import structural_issues
from segur_documents.checks.xsd import XsdChecker
from segur_documents.config import DocumentsConfig

__all__ = ["ValidationReport", "Validator", "validator_for"]


def _tuple(value: object) -> tuple:
    return tuple(value)  # type: ignore[arg-type]


@attrs.frozen
class ValidationReport:
    """The outcome of the checks of one document.

    ``checks`` names what ran (``structure``, ``xsd``, ``schematron:<file>``), ``skipped``
    says in a sentence each what did not run and why (no kit, no Saxon, a volet whose
    templateId no schematron covers: its rules were not checked).
    """

    issues: tuple[ValidationIssue, ...] = attrs.field(converter=_tuple)
    checks: tuple[str, ...] = attrs.field(converter=_tuple)
    skipped: tuple[str, ...] = attrs.field(default=(), converter=_tuple)

    @property
    def errors(self) -> tuple[ValidationIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def official(self) -> bool:
        """Whether the official checks (XSD and schematrons) all ran."""
        return not self.skipped

    def as_check(self) -> DocumentCheck:
        """This report as the core's :class:`~segur_core.model.DocumentCheck`, the form
        kept with a received document."""
        issues = [
            CheckIssue(i.message, i.severity, i.location, i.rule, i.source) for i in self.issues
        ]
        return DocumentCheck(self.valid, self.checks, self.skipped, issues)

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "checks": list(self.checks),
            "skipped": list(self.skipped),
            "issues": [issue.as_dict() for issue in self.issues],
        }


class Validator:
    """Runs the structural checks, the kit's XSD and the official schematrons.

    ``kit_path`` is the TestContenuCDA folder (default: see :func:`find_kit`);
    ``xsd_path`` overrides the schema; ``schematron=False`` runs only structure + XSD.
    Without a kit the structural checks still run and the report says the official
    ones were skipped.
    """

    def __init__(
        self,
        kit_path: str | os.PathLike | None = None,
        *,
        xsd_path: str | os.PathLike | None = None,
        cache_dir: str | os.PathLike | None = None,
        schematron: bool = True,
        use_default_kit: bool = True,
    ) -> None:
        root = find_kit(kit_path) if (kit_path or use_default_kit) else None
        self.kit = Kit(root, Path(cache_dir) if cache_dir else None) if root else None
        xsd = Path(xsd_path) if xsd_path else (self.kit.xsd if self.kit else None)
        self.xsd = XsdChecker(xsd) if xsd else None
        self.use_schematron = schematron
        self.schematrons = (
            SchematronRunner(self.kit) if self.kit is not None and saxon_available() else None
        )

    def _skipped(self) -> list[str]:
        skipped = []
        if self.xsd is None:
            skipped.append("XSD CDA_extended.xsd non vérifié : kit CI-SIS introuvable")
        if not self.use_schematron:
            skipped.append("schématrons officiels non exécutés (désactivés)")
        elif self.kit is None:
            skipped.append(
                "schématrons officiels non exécutés : kit CI-SIS introuvable "
                "(documents.kit_path ou SEGUR_CISIS_KIT)"
            )
        elif self.schematrons is None:
            skipped.append("schématrons officiels non exécutés : saxonche n'est pas installé")
        return skipped

    def to_compile(self, documents: Iterable[bytes]) -> list[str]:
        """The official schematrons these documents need that this process has not
        compiled yet, in order: each one's first compilation takes 15-45 s, which a
        command shows as progress (:meth:`SchematronRunner.executable` compiles one)."""
        if not self.use_schematron or self.schematrons is None or self.kit is None:
            return []
        found: list[str] = []
        for xml in documents:
            try:
                root = parse_xml(xml, max_bytes=MAX_XML_BYTES)
            except UnsafeXMLError:
                continue  # validate() reports it
            for sch in schematrons_for(root):
                if (
                    sch not in found
                    and (self.kit.root / "schematrons" / sch).is_file()
                    and not self.schematrons.compiled(sch)
                ):
                    found.append(sch)
        return found

    def validate(self, xml: bytes) -> ValidationReport:
        """Check one document's bytes; never raises for a bad document."""
        try:
            root = parse_xml(xml, max_bytes=MAX_XML_BYTES)
        except UnsafeXMLError as exc:
            return ValidationReport(
                [ValidationIssue(str(exc), location="/", source="xml", rule="parse")],
                ["xml"],
                self._skipped(),
            )
        checks = ["xml", "structure"]
        issues = structural_issues(root)
        if self.xsd is not None:
            checks.append("xsd")
            issues.extend(self.xsd.check(root))
        skipped = self._skipped()
        if self.use_schematron and self.schematrons is not None:
            applicable = schematrons_for(root)
            missing = [s for s in applicable if not (self.kit.root / "schematrons" / s).is_file()]
            for sch in missing:
                skipped.append(f"schématron du volet {sch} absent du kit : non exécuté")
            if volets := unchecked_volets(root):
                skipped.append(
                    "règles du volet non vérifiées : aucun schématron de volet associé aux "
                    f"templateId {', '.join(volets)} (seuls les profils transversaux ont "
                    "été exécutés)"
                )
            applicable = tuple(s for s in applicable if s not in missing)
            try:
                issues.extend(self.schematrons.run(root, applicable))
                checks.extend(f"schematron:{sch}" for sch in applicable)
            except SegurError as exc:
                issues.append(ValidationIssue(str(exc), source="schematron", rule="engine"))
        return ValidationReport(issues, checks, skipped)


_validators: dict[tuple, Validator] = {}


def validator_for(config: DocumentsConfig) -> Validator:
    """One :class:`Validator` per configuration, shared in the process.

    The key is the kit and cache folder the configuration resolves to *now*
    (``$SEGUR_CISIS_KIT``, ``$XDG_CACHE_HOME`` may change between runtimes), not the
    raw settings: an unset ``kit_path`` must not pin the kit seen first."""
    kit = find_kit(config.kit_path)
    cache = Path(config.cache_dir) if config.cache_dir else default_cache_dir()
    key = (kit, config.xsd_path, cache, config.schematron)
    if key not in _validators:
        _validators[key] = Validator(
            kit,
            xsd_path=config.xsd_path,
            cache_dir=cache,
            schematron=config.schematron,
            use_default_kit=False,
        )
    return _validators[key]
