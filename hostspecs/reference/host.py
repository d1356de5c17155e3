"""The reference host: the host contract implemented on SQLite.

It is the embedded default of the demo and the tests, and the worked example an LGO
editor reads before implementing the contract on their own database. Values are stored
as JSON made by the segur converter, with the columns the lookups need beside them.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from hostspecs.reference.schema import migrate
from segur_core import convert
from segur_core.files import private_file
from segur_core.host import hostimpl
from segur_core.host.paging import PatientPage, check_limit, decode_cursor, encode_cursor
from segur_core.model import (
    Address,
    Answer,
    Consent,
    Dispensation,
    HealthDocument,
    Patient,
    Practitioner,
    Question,
    ReceivedMessage,
    Structure,
)

__all__ = [
    "DEMO_PRACTITIONER",
    "DEMO_STRUCTURE",
    "ReferenceHost",
    "default_decision",
]

#: A fictitious pharmacy (FINESS with a valid Luhn key in the 99 test range).
DEMO_STRUCTURE = Structure(
    finess="999990013",
    name="PHARMACIE DE DEMONSTRATION SEGUR",
    address=Address(lines=("1 RUE DE LA DEMONSTRATION",), postal_code="75001", city="PARIS"),
    phone="0100000000",
    mssante_address="pharmacie.demo@pharmacie.mssante.test",
)

#: A fictitious pharmacist, titulaire (RPPS with a valid Luhn key).
DEMO_PRACTITIONER = Practitioner(
    rpps="10999900003",
    family_name="PHARMACIEN",
    given_name="DEMO",
    profession="21",
    specialty="G15_21/A",
    title="DR",
    mssante_address="demo.pharmacien@pharmacie.mssante.test",
)


def default_decision(question: Question) -> Answer:
    """What a host with nobody at the screen answers: the default, else the first option."""
    key = question.default if question.default is not None else question.options[0].key
    return Answer(key=key, decided_by="default")


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


class ReferenceHost:
    """The host contract on one SQLite file (WAL). Thread-safe; one instance per file.

    ``structure`` and ``practitioner`` default to a fictitious pharmacy and pharmacist;
    ``decide`` is called for the pharmacist's choices (default: :func:`default_decision`).
    """

    def __init__(
        self,
        db_path: str | Path,
        *,
        structure: Structure | None = None,
        practitioner: Practitioner | None = None,
        decide: Callable[[Question], Answer] | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        private_file(self.db_path)  # 0600, and so its -wal and -shm: patient data
        self._structure = structure or DEMO_STRUCTURE
        self._practitioner = practitioner or DEMO_PRACTITIONER
        self._decide = decide or default_decision
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.db_path, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        migrate(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> ReferenceHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, sql: str, params: Sequence[object]) -> sqlite3.Cursor:
        """One write statement, committed when it returns. In autocommit mode a single
        statement is its own transaction, and a writing statement takes the write lock
        when it starts (like ``BEGIN IMMEDIATE``): no explicit BEGIN/COMMIT round."""
        with self._lock:
            return self._db.execute(sql, params)

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- structure and practitioner ---------------------------------------------------------

    @hostimpl
    def host_structure(self) -> Structure:
        return self._structure

    @hostimpl
    def host_practitioner(self) -> Practitioner:
        return self._practitioner

    # -- patients ---------------------------------------------------------------------------

    @hostimpl
    def host_get_patient(self, patient_id: str) -> Patient | None:
        rows = self._rows("SELECT data FROM patient WHERE id = ?", (patient_id,))
        return convert.loads(rows[0][0], Patient) if rows else None

    @hostimpl
    def host_find_patients(
        self,
        birth_name: str | None,
        first_name: str | None,
        birth_date: str | None,
        ins_matricule: str | None,
    ) -> list[Patient]:
        clauses, params = [], []
        for column, value in (
            ("birth_name", birth_name),
            ("first_name", first_name),
            ("birth_date", birth_date),
            ("ins_matricule", ins_matricule),
        ):
            if value is not None:
                collate = " COLLATE NOCASE" if column.endswith("name") else ""
                clauses.append(f"{column} = ?{collate}")
                params.append(value)
        where = " AND ".join(clauses) or "1"
        rows = self._rows(f"SELECT data FROM patient WHERE {where} ORDER BY id", params)
        return [convert.loads(data, Patient) for (data,) in rows]

    @hostimpl
    def host_patients_page(self, cursor: str | None, limit: int) -> PatientPage:
        # keyset on the primary key: one more row than asked says whether a page follows
        limit = check_limit(limit)
        after = decode_cursor(cursor) if cursor is not None else None
        where, params = ("WHERE id > ? ", [after]) if after is not None else ("", [])
        sql = f"SELECT id, data FROM patient {where}ORDER BY id LIMIT ?"
        rows = self._rows(sql, [*params, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        return PatientPage(
            patients=[convert.loads(data, Patient) for _, data in rows],
            next_cursor=encode_cursor(rows[-1][0]) if more else None,
        )

    @hostimpl
    def host_save_patient(self, patient: Patient) -> Patient:
        if not patient.id:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("UPDATE patient_sequence SET n = n + 1")
                (n,) = self._db.execute("SELECT n FROM patient_sequence").fetchone()
                self._db.execute("COMMIT")
            patient = attrs.evolve(patient, id=f"P{n:06d}")
        traits = patient.identity.traits
        ins = patient.identity.ins
        data = convert.dumps(patient)  # serialised outside the lock: other threads write
        self._write(
            "INSERT INTO patient (id, birth_name, first_name, birth_date, ins_matricule, data)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
            " birth_name = excluded.birth_name, first_name = excluded.first_name,"
            " birth_date = excluded.birth_date, ins_matricule = excluded.ins_matricule,"
            " data = excluded.data",
            (
                patient.id,
                traits.birth_name,
                traits.first_name,
                str(traits.birth_date),
                ins.matricule if ins else None,
                data,
            ),
        )
        return patient

    # -- documents --------------------------------------------------------------------------

    @hostimpl
    def host_store_document(self, document: HealthDocument) -> HealthDocument:
        meta = convert.unstructure(document)
        del meta["content"]
        with self._lock:
            (seq,) = self._db.execute(
                "SELECT COALESCE(MAX(stored_seq), 0) + 1 FROM document"
            ).fetchone()
            self._write(
                "INSERT INTO document (id, patient_id, created_at, stored_seq, data, content)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                " patient_id = excluded.patient_id, data = excluded.data,"
                " content = excluded.content",
                (
                    document.id,
                    document.patient_id,
                    _iso(document.created_at),
                    seq,
                    json.dumps(meta),
                    document.content,
                ),
            )
        return document

    def _document(self, data: str, content: bytes) -> HealthDocument:
        meta = json.loads(data)
        meta["content"] = content
        return convert.structure(meta, HealthDocument)

    @hostimpl
    def host_get_document(self, document_id: str) -> HealthDocument | None:
        rows = self._rows("SELECT data, content FROM document WHERE id = ?", (document_id,))
        return self._document(*rows[0]) if rows else None

    @hostimpl
    def host_list_documents(self, patient_id: str) -> list[HealthDocument]:
        rows = self._rows(
            "SELECT data, content FROM document WHERE patient_id = ?"
            " ORDER BY created_at, stored_seq",
            (patient_id,),
        )
        return [self._document(data, content) for data, content in rows]

    # -- received messages ------------------------------------------------------------------

    @hostimpl
    def host_store_message(self, message: ReceivedMessage) -> ReceivedMessage:
        meta = convert.unstructure(message)
        del meta["content"]
        self._write(
            "INSERT INTO message (id, received_at, data, content) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET data = excluded.data, content = excluded.content",
            (message.id, _iso(message.received_at), json.dumps(meta), message.content),
        )
        return message

    @hostimpl
    def host_get_message(self, message_id: str) -> ReceivedMessage | None:
        rows = self._rows("SELECT data, content FROM message WHERE id = ?", (message_id,))
        if not rows:
            return None
        meta = json.loads(rows[0][0])
        meta["content"] = rows[0][1]
        return convert.structure(meta, ReceivedMessage)

    # -- dispensations ----------------------------------------------------------------------

    @hostimpl
    def host_dispensations(self, patient_id: str, since: dt.datetime | None) -> list[Dispensation]:
        sql = "SELECT data FROM dispensation WHERE patient_id = ?"
        params: list[object] = [patient_id]
        if since is not None:
            sql += " AND dispensed_at >= ?"
            params.append(_iso(since))
        rows = self._rows(sql + " ORDER BY dispensed_at DESC, seq DESC", params)
        return [convert.loads(data, Dispensation) for (data,) in rows]

    @hostimpl
    def host_record_dispensation(self, dispensation: Dispensation) -> Dispensation:
        self._write(
            "INSERT INTO dispensation (patient_id, dispensed_at, data) VALUES (?, ?, ?)",
            (dispensation.patient_id, _iso(dispensation.dispensed_at), convert.dumps(dispensation)),
        )
        return dispensation

    # -- consents ---------------------------------------------------------------------------

    @hostimpl
    def host_consent(self, patient_id: str, purpose: str) -> Consent | None:
        rows = self._rows(
            "SELECT data FROM consent WHERE patient_id = ? AND purpose = ?"
            " ORDER BY seq DESC LIMIT 1",
            (patient_id, purpose),
        )
        return convert.loads(rows[0][0], Consent) if rows else None

    @hostimpl
    def host_consents(self, patient_id: str) -> list[Consent]:
        rows = self._rows(
            "SELECT data FROM consent WHERE patient_id = ? ORDER BY seq", (patient_id,)
        )
        return [convert.loads(data, Consent) for (data,) in rows]

    @hostimpl
    def host_record_consent(self, consent: Consent) -> Consent:
        self._write(
            "INSERT INTO consent (patient_id, purpose, data) VALUES (?, ?, ?)",
            (consent.patient_id, consent.purpose, convert.dumps(consent)),
        )
        return consent

    # -- decisions --------------------------------------------------------------------------

    @hostimpl
    def host_decide(self, question: Question) -> Answer:
        answer = self._decide(question)
        if answer.key not in {option.key for option in question.options}:
            raise ValueError(
                f"decision {answer.key!r} is not one of the options of {question.kind}"
            )
        self._write(
            "INSERT INTO decision (kind, patient_id, answer, decided_at) VALUES (?, ?, ?, ?)",
            (question.kind, question.patient_id, answer.key, _iso(dt.datetime.now(dt.UTC))),
        )
        return answer
