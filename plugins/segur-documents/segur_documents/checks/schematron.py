"""The official CI-SIS schematrons, run with Saxon (``saxonche``, XSLT 2/3).

Each ``.sch`` goes through the ISO skeleton XSLs shipped in the kit's
``schematrons/moteur/`` (include → abstract expand → SVRL for XSLT 2). The generated
XSLT is written next to its ``.sch`` in the working copy (its ``doc()`` look-ups are
relative to it) and reused across runs; the compiled executables are kept in memory for
the life of the process. Saxon calls are serialised: one processor per process.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from lxml import etree

from segur_core.errors import DocumentError, ValidationIssue
from segur_core.safexml import parse_xml
from segur_documents.cda import MAX_XML_BYTES
from segur_documents.checks.kit import Kit

__all__ = [
    "EDISP_MED_SCHEMATRON",
    "N1_SCHEMATRONS",
    "PROFILE_SCHEMATRONS",
    "TRANSVERSAL_TEMPLATES",
    "VAC_NOTE_SCHEMATRON",
    "VAC_SCHEMATRON",
    "VOLET_SCHEMATRONS",
    "SchematronRunner",
    "parse_svrl",
    "saxon_available",
    "unchecked_volets",
]

SVRL = "http://purl.oclc.org/dsdl/svrl"
PROFILE_SCHEMATRONS = (
    "profils/IHE.sch",
    "profils/structurationMinimale/ASIP-STRUCT-MIN-StrucMin.sch",
    "profils/CI-SIS_ModelesDeContenusCDA.sch",
    "profils/CI-SIS_Modeles_ANS.sch",
    "profils/terminologies/schematron/terminologie.sch",
)
N1_SCHEMATRONS = PROFILE_SCHEMATRONS
VAC_NOTE_SCHEMATRON = "CI-SIS_VAC-NOTE_2023.01.sch"
_STEPS = ("iso_dsdl_include.xsl", "iso_abstract_expand.xsl", "iso_svrl_for_xslt2.xsl")
_COMPILED_SUFFIX = ".svrl.xsl"
VAC_SCHEMATRON = "CI-SIS_VAC_2023.01.sch"
EDISP_MED_SCHEMATRON = "CI-SIS_eDISP-MED_2024.01.sch"
_TEMPLATE_VOLETS = {
    # volet templateId -> its entry-point schematron in the kit
    "1.2.250.1.213.1.1.1.46": VAC_NOTE_SCHEMATRON,
    "1.2.250.1.213.1.1.1.37": VAC_SCHEMATRON,
    "1.2.250.1.213.1.1.1.54": EDISP_MED_SCHEMATRON,
}
#: The entry-point schematron of every volet the checks know.
VOLET_SCHEMATRONS = tuple(dict.fromkeys(_TEMPLATE_VOLETS.values()))

_saxon_lock = threading.RLock()
_processor = None
_executables: dict[tuple[str, str], object] = {}


def saxon_available() -> bool:
    """Whether ``saxonche`` can be imported."""
    try:
        import saxonche  # noqa: F401
    except ImportError:
        return False
    return True


def _proc():
    global _processor
    if _processor is None:
        from saxonche import PySaxonProcessor

        _processor = PySaxonProcessor(license=False)
    return _processor


def schematrons_for(root: etree._Element) -> tuple[str, ...]:
    """The schematrons that apply to a CDA: the transversal profiles, plus the volet's
    entry point when the document declares a volet templateId the kit covers."""
    ns = {"c": "urn:hl7-org:v3"}
    volets = [
        _TEMPLATE_VOLETS[t]
        for t in root.xpath("c:templateId/@root", namespaces=ns)
        if t in _TEMPLATE_VOLETS
    ]
    return PROFILE_SCHEMATRONS + tuple(dict.fromkeys(volets))


#: document-level templateIds the transversal profiles cover: HL7 France, CI-SIS
#: structuration minimale, IHE XDS-SD (N1: no volet), CI-SIS "modèles de contenus"
TRANSVERSAL_TEMPLATES = frozenset(
    {
        "2.16.840.1.113883.2.8.2.1",
        "1.2.250.1.213.1.1.1.1",
        "1.3.6.1.4.1.19376.1.2.20",
        "1.2.250.1.213.1.1.1.13",
    }
)


def unchecked_volets(root: etree._Element) -> tuple[str, ...]:
    """The document-level templateIds whose volet rules no schematron checks here: empty
    when a known volet's schematron applies or when only transversal templates are
    declared; otherwise every other templateId (the volet's and those it builds on)."""
    declared = root.xpath("c:templateId/@root", namespaces={"c": "urn:hl7-org:v3"})
    if any(t in _TEMPLATE_VOLETS for t in declared):
        return ()
    return tuple(dict.fromkeys(t for t in declared if t not in TRANSVERSAL_TEMPLATES))


def parse_svrl(svrl: bytes, source: str = "") -> list[ValidationIssue]:
    """The failed asserts and successful reports of an SVRL report, as issues."""
    root = etree.fromstring(
        svrl, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    )
    issues: list[ValidationIssue] = []
    for node in root.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = node.findtext(f"{{{SVRL}}}text") or ""
        role = (node.get("role") or "error").lower()
        severity = (
            "error"
            if role in ("error", "fatal", "")
            else ("warning" if role in ("warning", "warn") else "info")
        )
        issues.append(
            ValidationIssue(
                " ".join(text.split()),
                location=node.get("location", ""),
                severity=severity,
                source=source,
                rule=node.get("id") or node.get("test", ""),
            )
        )
    return issues


class SchematronRunner:
    """Compiles (once) and runs the kit's schematrons."""

    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.compile_seconds = 0.0

    def _generated_xslt(self, sch: str) -> Path:
        work = self.kit.prepare()
        source = work / "schematrons" / sch
        target = source.with_name(source.name + _COMPILED_SUFFIX)
        if target.exists():
            return target
        moteur = work / "schematrons" / "moteur"
        proc = _proc()
        xslt = proc.new_xslt30_processor()
        node = proc.parse_xml(xml_file_name=str(source))
        for step in _STEPS:
            executable = xslt.compile_stylesheet(stylesheet_file=str(moteur / step))
            executable.set_base_output_uri(source.as_uri())
            result = executable.transform_to_value(xdm_node=node)
            if result is None:
                raise DocumentError(f"schematron {sch}: step {step} produced nothing")
            node = result.head
        # a private temporary name: another process may be generating the same file
        fd, name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(str(node))
            os.replace(name, target)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return target

    def compiled(self, sch: str) -> bool:
        """Whether this process has compiled ``sch`` already (then it runs at once)."""
        return (self.kit.hash, sch) in _executables

    def executable(self, sch: str):
        """The compiled validator of one schematron (compiled on first use)."""
        key = (self.kit.hash, sch)
        with _saxon_lock:
            if key in _executables:
                return _executables[key]
            started = time.perf_counter()
            try:
                path = self._generated_xslt(sch)
                executable = (
                    _proc().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))
                )
            except DocumentError:
                raise
            except Exception as exc:
                raise DocumentError(
                    f"schematron {sch} could not be compiled: {exc}",
                    hint="check the CI-SIS kit folder",
                ) from None
            self.compile_seconds += time.perf_counter() - started
            _executables[key] = executable
            return executable

    def warm_up(self, schematrons=(*PROFILE_SCHEMATRONS, VAC_NOTE_SCHEMATRON)) -> None:
        """Compile the given schematrons now (the first compilation takes ~20 s)."""
        for sch in schematrons:
            self.executable(sch)

    def run(
        self, document: bytes | etree._Element, schematrons: tuple[str, ...]
    ) -> list[ValidationIssue]:
        """Run the schematrons on a document (bytes, or a root parsed by the hardened
        parser); return every issue found. Saxon only ever sees the document as
        re-serialised from the hardened parse: no DOCTYPE, no entity reaches it."""
        if isinstance(document, bytes | bytearray):
            root = parse_xml(document, max_bytes=MAX_XML_BYTES)
        else:
            root = document
        text = etree.tostring(root, encoding="unicode")
        issues: list[ValidationIssue] = []
        for sch in schematrons:
            executable = self.executable(sch)
            with _saxon_lock:
                proc = _proc()
                try:
                    node = proc.parse_xml(xml_text=text)
                    svrl = executable.transform_to_string(xdm_node=node)
                except Exception as exc:
                    issues.append(
                        ValidationIssue(
                            f"le schématron n'a pas pu s'exécuter : {exc}",
                            source=sch,
                            rule="engine",
                        )
                    )
                    continue
            issues.extend(parse_svrl((svrl or "").encode("utf-8"), source=sch))
        return issues
