"""Checks of CDA R2 documents: structure, the kit's XSD and the official schematrons."""

from segur_documents.checks.kit import Kit, default_cache_dir, find_kit
from segur_documents.checks.schematron import SchematronRunner, parse_svrl, saxon_available
from segur_documents.checks.structural import structural_issues
from segur_documents.checks.validator import ValidationReport, Validator
from segur_documents.checks.xsd import XsdChecker

__all__ = [
    "Kit",
    "SchematronRunner",
    "ValidationReport",
    "Validator",
    "XsdChecker",
    "default_cache_dir",
    "find_kit",
    "parse_svrl",
    "saxon_available",
    "structural_issues",
]
