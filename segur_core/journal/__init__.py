"""The audit journal: an append-only, hash-chained trail of every access to patient data
and every call to a national service (who, when, which patient, what, which service,
outcome). ``segur audit verify`` detects records modified, deleted or reordered, and,
against keyed checkpoints kept in another file, records cut at the end or rewritten."""

from segur_core.journal.chain import GENESIS
from segur_core.journal.pseudonym import Pseudonymiser
from segur_core.journal.records import JournalRecord, Problem, ProblemKind, VerifyReport
from segur_core.journal.settings import JournalSettings, open_journal
from segur_core.journal.store import Journal, JournalError, JournalStorageError

__all__ = [
    "GENESIS",
    "Journal",
    "JournalError",
    "JournalRecord",
    "JournalSettings",
    "JournalStorageError",
    "Problem",
    "ProblemKind",
    "Pseudonymiser",
    "VerifyReport",
    "open_journal",
]
