"""The MSSanté directory in SQLite: the extraction's rows keyed by address, an FTS5 index
over names, identifiers, structure, town and profession, and the incremental import.

An import streams the file into a temporary staging table (commits of
:data:`BATCH` rows, in SQLite's temporary file, nothing held in memory), then applies the
difference to the directory in **one** transaction: addresses absent from the new file
removed, changed rows updated, new ones inserted. A crash at any point leaves the
previous directory as it was; the staging table dies with the connection.
The database is a private file (0600) in the data directory.
"""

from __future__ import annotations

import collections
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import attrs

from segur_core.files import private_file
from segur_core.safezip import open_zip
from segur_mssante.directory.errors import DirectoryError
from segur_mssante.directory.extraction import COLUMNS, BadRow, Entry, read_extraction
from segur_mssante.directory.query import MIN_PREFIX, fold, query_words

__all__ = ["BATCH", "FILENAME", "Directory", "ImportReport", "Progress"]

#: The database's name in the data directory.
FILENAME = "mss-directory.sqlite"
#: Rows staged per transaction.
BATCH = 5000
#: The largest extraction read from a ZIP archive (the real one is ~200 MB).
MAX_EXTRACTION_BYTES = 2 * 1024 * 1024 * 1024
#: The longest line read from a ZIP archive (a real row is a few hundred bytes).
MAX_LINE_BYTES = 1024 * 1024
#: Kept line numbers of bad rows (the count is always exact).
BAD_LINES_KEPT = 20
#: A search word whose prefix covers more rows than this, over at most
#: :data:`MAX_EXPANSION` terms, is searched as those whole terms (``("pharmacie" OR
#: "pharmacien")``) rather than as a prefix: FTS5 merges a prefix's rows in memory
#: before anything else, which made words such as "pharma" or "cabinet" slow.
COMMON_WORD_ROWS = 20_000
MAX_EXPANSION = 16
#: Rows ranked per search: all of them when fewer match, else the first ones found.
RANKED = 300
#: ``on_progress(stage, done, total)``: stage ``"read"`` (bytes of the file), then
#: ``"apply"`` (0, 0) when the single transaction that changes the directory starts.
Progress = Callable[[str, int, int], None]

_FIELDS = tuple(field for _header, field in COLUMNS)
_FIELD_LIST = ", ".join(_FIELDS)
#: The indexed texts: (FTS column, SQL expression over the row, bm25 weight).
_INDEXED = (
    ("names", "{t}family_name || ' ' || {t}first_name", 10.0),
    ("ids", "{t}pp_id || ' ' || {t}national_pp_id || ' ' || {t}structure_id", 8.0),
    ("structure", "{t}organisation || ' ' || {t}trade_name || ' ' || {t}service", 4.0),
    ("town", "{t}line6 || ' ' || {t}postal_code", 3.0),
    (
        "profession",
        "{t}profession_label || ' ' || {t}specialty_label || ' ' || {t}profession_category_label",
        2.0,
    ),
    ("address", "{t}mssante_address", 1.0),
)
_FTS_COLUMNS = ", ".join(name for name, _expr, _w in _INDEXED)
_WEIGHTS = ", ".join(str(weight) for _n, _e, weight in _INDEXED)


def _exprs(prefix: str) -> str:
    return ", ".join(expr.format(t=prefix) for _name, expr, _w in _INDEXED)


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS entry (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    digest BLOB NOT NULL,
    {", ".join(f"{field} TEXT NOT NULL" for field in _FIELDS)}
);
CREATE VIEW IF NOT EXISTS entry_text (id, {_FTS_COLUMNS}) AS
    SELECT id, {_exprs("")} FROM entry;
CREATE VIRTUAL TABLE IF NOT EXISTS entry_fts USING fts5(
    {_FTS_COLUMNS}, content='entry_text', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
);
CREATE TRIGGER IF NOT EXISTS entry_inserted AFTER INSERT ON entry BEGIN
    INSERT INTO entry_fts (rowid, {_FTS_COLUMNS}) VALUES (new.id, {_exprs("new.")});
END;
CREATE TRIGGER IF NOT EXISTS entry_deleted AFTER DELETE ON entry BEGIN
    INSERT INTO entry_fts (entry_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.id, {_exprs("old.")});
END;
CREATE TRIGGER IF NOT EXISTS entry_updated AFTER UPDATE ON entry BEGIN
    INSERT INTO entry_fts (entry_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.id, {_exprs("old.")});
    INSERT INTO entry_fts (rowid, {_FTS_COLUMNS}) VALUES (new.id, {_exprs("new.")});
END;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS entry_vocab USING fts5vocab(entry_fts, row);
CREATE TABLE IF NOT EXISTS index_term (term TEXT PRIMARY KEY, rows INTEGER NOT NULL)
    WITHOUT ROWID;
"""

_STAGING = f"""
CREATE TEMP TABLE IF NOT EXISTS incoming (
    key TEXT PRIMARY KEY, digest BLOB NOT NULL,
    {", ".join(f"{field} TEXT NOT NULL" for field in _FIELDS)}
);
DELETE FROM temp.incoming;
"""


@attrs.frozen
class ImportReport:
    """What an import changed: addresses ``added``, ``changed``, ``removed`` and
    ``unchanged``; rows read, later rows repeating an address (``duplicates``, the first
    one is kept), bad rows by reason and the first of their line numbers."""

    rows: int
    added: int
    changed: int
    removed: int
    unchanged: int
    duplicates: int
    bad_rows: int
    bad_reasons: dict[str, int]
    bad_lines: tuple[int, ...]
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return attrs.asdict(self) | {"bad_lines": list(self.bad_lines)}


class Directory:
    """The directory database at ``path`` (created 0600 when absent)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = private_file(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA temp_store=FILE")
        self._db.executescript(_SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: str | os.PathLike[str]) -> Directory:
        """The directory of the installation whose data directory is ``data_dir``."""
        return cls(Path(data_dir) / FILENAME)

    # -- import ---------------------------------------------------------------------------

    def import_file(
        self, path: str | os.PathLike[str], *, on_progress: Progress | None = None
    ) -> ImportReport:
        """Import the extraction at ``path`` (see :meth:`import_rows`): the ``.txt`` file,
        or the ZIP archive holding it, as data.gouv.fr publishes it (read through
        :mod:`segur_core.safezip`, streamed, never extracted to disk)."""
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed below, read as it is staged
        except OSError as exc:
            raise DirectoryError(f"cannot read the directory file: {exc.strerror}") from None
        with stream:
            if stream.read(4) == b"PK\x03\x04":
                stream.seek(0)
                return self._import_zip(stream, on_progress)
            stream.seek(0)
            total = os.fstat(stream.fileno()).st_size

            def progress() -> None:
                if on_progress is not None:
                    on_progress("read", stream.tell(), total)

            return self.import_rows(read_extraction(stream), on_progress=on_progress, tick=progress)

    def _import_zip(self, stream: BinaryIO, on_progress: Progress | None) -> ImportReport:
        with open_zip(stream, max_total_uncompressed=MAX_EXTRACTION_BYTES) as archive:
            texts = [e for e in archive.entries if e.path.lower().endswith(".txt")]
            if len(texts) != 1:
                raise DirectoryError(
                    f"the ZIP archive holds {len(texts)} .txt files: one extraction expected"
                )
            (member,) = texts
            read = 0

            def chunks() -> Iterator[bytes]:
                nonlocal read
                for chunk in archive.iter_chunks(member.name):
                    read += len(chunk)
                    yield chunk

            def progress() -> None:
                if on_progress is not None:
                    on_progress("read", read, member.size)

            return self.import_rows(
                read_extraction(_lines(chunks())), on_progress=on_progress, tick=progress
            )

    def import_rows(
        self,
        rows: Iterable[Entry | BadRow],
        *,
        on_progress: Progress | None = None,
        tick: Callable[[], None] | None = None,
    ) -> ImportReport:
        """Make the directory hold exactly the good rows of ``rows`` (the whole new
        extraction), in one transaction; report what changed. A source without a single
        good row is refused (:class:`DirectoryError`), the directory left unchanged."""
        start = time.perf_counter()
        db = self._db
        db.executescript(_STAGING)
        insert = (
            f"INSERT OR IGNORE INTO temp.incoming (key, digest, {_FIELD_LIST}) "
            f"VALUES ({', '.join('?' * (len(_FIELDS) + 2))})"
        )
        good = staged = 0
        bad: collections.Counter[str] = collections.Counter()
        bad_lines: list[int] = []
        batch: list[tuple[str | bytes, ...]] = []

        def flush() -> None:
            nonlocal staged
            db.execute("BEGIN")
            staged += db.executemany(insert, batch).rowcount
            db.execute("COMMIT")
            batch.clear()
            if tick is not None:
                tick()

        for row in rows:
            if isinstance(row, BadRow):
                bad[row.reason] += 1
                if len(bad_lines) < BAD_LINES_KEPT:
                    bad_lines.append(row.line)
                continue
            good += 1
            batch.append((row.key, row.digest(), *row.values()))
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
        if not staged:
            db.execute("DELETE FROM temp.incoming")
            raise DirectoryError(
                "no readable row in the directory file: the directory is left unchanged"
            )
        if on_progress is not None:
            on_progress("apply", 0, 0)
        counts = self._apply()
        db.execute("DELETE FROM temp.incoming")
        return ImportReport(
            rows=good + sum(bad.values()),
            duplicates=good - staged,
            bad_rows=sum(bad.values()),
            bad_reasons=dict(bad),
            bad_lines=tuple(bad_lines),
            seconds=time.perf_counter() - start,
            unchanged=staged - counts["added"] - counts["changed"],
            **counts,
        )

    def _apply(self) -> dict[str, int]:
        """Switch the directory to the staged rows, in one transaction."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            removed, added, changed = db.execute(
                """SELECT
                    (SELECT count(*) FROM entry WHERE key NOT IN (SELECT key FROM temp.incoming)),
                    (SELECT count(*) FROM temp.incoming WHERE key NOT IN (SELECT key FROM entry)),
                    (SELECT count(*) FROM temp.incoming i JOIN entry e ON e.key = i.key
                        WHERE e.digest != i.digest)"""
            ).fetchone()
            db.execute("DELETE FROM entry WHERE key NOT IN (SELECT key FROM temp.incoming)")
            updates = ", ".join(f"{f} = excluded.{f}" for f in ("digest", *_FIELDS))
            db.execute(
                f"INSERT INTO entry (key, digest, {_FIELD_LIST}) "
                f"SELECT key, digest, {_FIELD_LIST} FROM temp.incoming WHERE true "
                f"ON CONFLICT (key) DO UPDATE SET {updates} WHERE entry.digest != excluded.digest"
            )
            db.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('imported_at', ?)",
                (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if added + changed + removed:
            db.execute("INSERT INTO entry_fts (entry_fts) VALUES ('optimize')")
            self._list_terms()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {"added": added, "changed": changed, "removed": removed}

    def _list_terms(self) -> None:
        """List the index's terms with their row counts (one pass over the index, a few
        seconds for the whole directory); a crash before it ends leaves the older list,
        which only makes searches slower, never wrong."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM index_term")
            db.execute("INSERT INTO index_term (term, rows) SELECT term, doc FROM entry_vocab")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _expression(self, words: list[str]) -> str:
        """The MATCH expression of the folded ``words``: a common prefix made of a few
        terms becomes those terms (the same rows, found without merging them first)."""
        parts = []
        for word in words:
            if len(word) < MIN_PREFIX:
                parts.append(f'"{word}"')
                continue
            terms = self._db.execute(
                "SELECT term, rows FROM index_term WHERE term >= ? AND term < ? LIMIT ?",
                (word, word + "\U0010ffff", MAX_EXPANSION + 1),
            ).fetchall()
            if len(terms) <= MAX_EXPANSION and sum(r for _t, r in terms) > COMMON_WORD_ROWS:
                quoted = ('"' + term.replace('"', '""') + '"' for term, _r in terms)
                parts.append("(" + " OR ".join(quoted) + ")")
            else:
                parts.append(f'"{word}"*')
        return " AND ".join(parts)

    # -- reading --------------------------------------------------------------------------

    def search(
        self,
        text: str,
        *,
        limit: int = 20,
        kind: str | None = None,
        profession: str | None = None,
    ) -> list[Entry]:
        """The mailboxes matching every word of ``text`` (names, RPPS and other ids,
        structure, town, profession, address; accents and case ignored; the words are
        prefixes, for type-ahead), best first (bm25); optionally only one mailbox
        ``kind`` (PER, ORG, APP, CAB) or one ``profession`` code ("21": pharmacien)."""
        if limit < 1:
            raise DirectoryError(f"the limit must be at least 1, not {limit}")
        words = [fold(word) for word in query_words(text)]
        if not words:
            return []
        found = self.get(text.strip()) if "@" in text else None
        if (
            found is not None
            and (kind is None or found.kind == kind.upper())
            and (profession is None or found.profession_code == profession)
        ):
            return [found]  # an address typed whole: that mailbox
        where, params = ["entry_fts MATCH ?"], [self._expression(words)]
        if kind is not None:
            where.append("e.kind = ?")
            params.append(kind.upper())
        if profession is not None:
            where.append("e.profession_code = ?")
            params.append(profession)
        joined = " JOIN entry e ON e.id = entry_fts.rowid" if len(where) > 1 else ""
        # Best first (bm25) among all the matching rows when there are at most RANKED,
        # else among the first RANKED found: ranking every row of a frequent word is what
        # made a search slow (bench_mss.py); past RANKED, more words are needed anyway.
        ranked = self._db.execute(
            f"SELECT bm25(entry_fts, {_WEIGHTS}), entry_fts.rowid FROM entry_fts{joined} "
            f"WHERE {' AND '.join(where)} LIMIT ?",
            (*params, RANKED),
        ).fetchall()
        best = [row_id for _score, row_id in sorted(ranked)[:limit]]
        if not best:
            return []
        rows = self._db.execute(
            f"SELECT id, {_FIELD_LIST} FROM entry WHERE id IN ({', '.join('?' * len(best))})",
            best,
        )
        by_id = {row[0]: Entry(*row[1:]) for row in rows}
        return [by_id[row_id] for row_id in best]

    def get(self, address: str) -> Entry | None:
        """The mailbox with this address (case ignored), or None."""
        row = self._db.execute(
            f"SELECT {_FIELD_LIST} FROM entry WHERE key = ?", (address.casefold(),)
        ).fetchone()
        return None if row is None else Entry(*row)

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM entry").fetchone()[0]

    @property
    def imported_at(self) -> str | None:
        """When the last import ran (UTC, ISO 8601), or None."""
        row = self._db.execute("SELECT value FROM meta WHERE name = 'imported_at'").fetchone()
        return None if row is None else row[0]

    def check(self) -> None:
        """Raise :class:`DirectoryError` when the database or its index is inconsistent."""
        (result,) = self._db.execute("PRAGMA integrity_check").fetchone()
        if result != "ok":
            raise DirectoryError(f"the directory database is damaged: {result}")
        try:
            self._db.execute("INSERT INTO entry_fts (entry_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as exc:
            raise DirectoryError(f"the directory index is damaged: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Directory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Directory {self.path}>"


def _lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines (with their ``\\n``) of a stream given in chunks, as a file yields them."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line + b"\n"
        if len(pending) > MAX_LINE_BYTES:
            raise DirectoryError(f"a line of the extraction is longer than {MAX_LINE_BYTES} bytes")
    if pending:
        yield pending
