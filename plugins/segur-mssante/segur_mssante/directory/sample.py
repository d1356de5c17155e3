"""Generated extractions, in the real file's format, for tests, demos and benchmarks.

Rows look like the real ones (PER mailboxes of pharmacists and physicians with an RPPS,
ORG mailboxes of pharmacies and hospitals, accented names, towns with their postal
line) and are deterministic for a seed: the same ``n`` and ``seed`` give the same file.
Names are drawn from common French names; no row is a real person.
"""

from __future__ import annotations

import os
import random
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from segur_mssante.directory.extraction import COLUMNS, SEPARATOR

__all__ = ["HEADER", "sample_rows", "write_extraction"]

HEADER = SEPARATOR.join(header for header, _field in COLUMNS)

FAMILY = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
    "Moreau", "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand",
    "Morel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau",
    "Vincent", "Müller", "Lefebvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer",
    "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin",
    "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
)  # fmt: skip
GIVEN = (
    "Marie", "Jean", "Hélène", "Éric", "Camille", "Nicolas", "Zoé", "Loïc", "Chloé", "Jérôme",
    "Inès", "Benoît", "Léa", "François", "Anaïs", "Stéphane", "Noël", "Clémence", "Gaëlle",
    "Raphaël", "Agnès", "Thérèse", "Cédric", "Maëlys", "Océane", "Joël", "Mélanie", "Aurélie",
)  # fmt: skip
TOWNS = (
    ("75011", "PARIS", "75"), ("69003", "LYON", "69"), ("13008", "MARSEILLE", "13"),
    ("31000", "TOULOUSE", "31"), ("44000", "NANTES", "44"), ("67000", "STRASBOURG", "67"),
    ("33000", "BORDEAUX", "33"), ("59000", "LILLE", "59"), ("35000", "RENNES", "35"),
    ("06000", "NICE", "06"), ("34000", "MONTPELLIER", "34"), ("21000", "DIJON", "21"),
    ("97400", "SAINT-DENIS", "974"), ("2A004", "AJACCIO", "2A"), ("87000", "LIMOGES", "87"),
    ("80000", "AMIENS", "80"), ("63000", "CLERMONT-FERRAND", "63"), ("74000", "ANNECY", "74"),
)  # fmt: skip
#: (code, label, category code, category label, domain)
PROFESSIONS = (
    ("21", "Pharmacien", "C", "Civil", "pharmacien.mssante.fr"),
    ("10", "Médecin", "C", "Civil", "medecin.mssante.fr"),
    ("60", "Infirmier", "C", "Civil", "infirmier.mssante.fr"),
    ("50", "Sage-Femme", "C", "Civil", "sagefemme.mssante.fr"),
    ("40", "Chirurgien-Dentiste", "C", "Civil", "chirurgien-dentiste.mssante.fr"),
    ("70", "Masseur-Kinésithérapeute", "C", "Civil", "kine.mssante.fr"),
)  # fmt: skip
SPECIALTIES = (
    ("SM54", "Médecine générale (SM)"), ("SM26", "Cardiologie et maladies vasculaires (SM)"),
    ("SM42", "Gynécologie-obstétrique (SM)"), ("SM53", "Pédiatrie (SM)"), ("", ""),
)  # fmt: skip
STREETS = ("RUE", "AV", "BD", "PL", "CHE", "ALL")
STREET_NAMES = (
    "DE LA RÉPUBLIQUE", "VICTOR HUGO", "JEAN JAURÈS", "DU GÉNÉRAL DE GAULLE", "PASTEUR",
    "DES ÉCOLES", "DE LA GARE", "NATIONALE", "DU MARCHÉ", "SAINT-ÉTIENNE",
)  # fmt: skip


def _row(rnd: random.Random, i: int) -> list[str]:
    postal, town, department = rnd.choice(TOWNS)
    cells = [""] * len(COLUMNS)
    cells[20] = rnd.choice(("", "BATIMENT A", "RÉSIDENCE LES TILLEULS"))
    cells[22] = str(rnd.randint(1, 250))
    cells[24] = rnd.choice(STREETS)
    cells[25] = rnd.choice(STREET_NAMES)
    cells[27] = f"{postal} {town}"
    cells[28], cells[29], cells[30] = postal, department, "FRANCE"
    finess = f"{department[:2]}0{i % 1000000:06d}"
    if rnd.random() < 0.17:  # an organisational mailbox
        pharmacy = rnd.random() < 0.6
        name = f"PHARMACIE {rnd.choice(STREET_NAMES)}" if pharmacy else f"CH DE {town}"
        box, domain = ("officine", "pharmacie") if pharmacy else ("secretariat", "ch")
        cells[0], cells[1] = "ORG", f"{box}.{i}@{domain}-{department}.mssante.fr"
        cells[5], cells[6] = "FINEG", finess
        cells[7] = "" if pharmacy else rnd.choice(("Cardiologie", "Urgences", "Maternité"))
        cells[18], cells[19] = name, "" if not pharmacy else rnd.choice(("", "Grande Pharmacie"))
        return cells
    code, label, category, category_label, domain = rnd.choice(PROFESSIONS)
    family, given = rnd.choice(FAMILY), rnd.choice(GIVEN)
    rpps = f"1{i:010d}"
    cells[0] = "PER"
    cells[1] = _ascii(f"{given}.{family}.{i}@{domain}".lower())
    cells[2], cells[3], cells[4] = "8", rpps, f"8{rpps}"
    cells[5], cells[6] = "FINEG", finess
    cells[8], cells[9], cells[10] = rnd.choice(("DR", "M", "MME")), family.upper(), given
    cells[11], cells[12], cells[13], cells[14] = category, category_label, code, label
    if code == "10":
        cells[15], cells[16] = rnd.choice(SPECIALTIES)
    cells[17] = rnd.choice(("O", "N"))
    cells[18] = f"PHARMACIE {rnd.choice(STREET_NAMES)}" if code == "21" else f"CABINET {family}"
    return cells


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def sample_rows(n: int, seed: int = 1) -> Iterator[list[str]]:
    """``n`` rows of 31 cells, each with its own address (``...{i}@...``)."""
    rnd = random.Random(seed)
    for i in range(n):
        yield _row(rnd, i)


def write_extraction(path: str | os.PathLike[str], rows: Iterator[list[str]]) -> Path:
    """Write ``rows`` under the real header, UTF-8, ``|``-separated, CRLF-free."""
    file = Path(path)
    with file.open("w", encoding="utf-8", newline="\n") as out:
        out.write(HEADER + "\n")
        for cells in rows:
            out.write(SEPARATOR.join(cells) + "\n")
    return file
