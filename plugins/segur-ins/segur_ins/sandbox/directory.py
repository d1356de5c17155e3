"""The sandbox's search rules: who a traits or carte Vitale search finds.

A traits search matches on the birth name, birth date, sex (when given), birthplace
(when given) and the first names: every ``Prenom`` sent must be one of the person's
birth first names, or one ``Prenom`` may carry the whole list. A Vitale search matches
the beneficiary's NIR (active or former INS), else the birth name and date. Zero
matches is ``CR 01``, several ``CR 02``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from segur_ins.sandbox.persons import Person

__all__ = ["Directory"]


class Directory:
    """An in-memory index of :class:`Person` for the sandbox."""

    def __init__(self, persons: Iterable[Person] = ()) -> None:
        self._by_name_date: dict[tuple[str, str], list[Person]] = defaultdict(list)
        self._by_matricule: dict[str, Person] = {}
        self._count = 0
        self.add(persons)

    def __len__(self) -> int:
        return self._count

    def add(self, persons: Iterable[Person]) -> None:
        for person in persons:
            self._by_name_date[(person.birth_name, person.birth_date)].append(person)
            self._by_matricule[person.matricule] = person
            for number, *_ in person.history:
                self._by_matricule.setdefault(number, person)
            self._count += 1

    def search_traits(
        self,
        birth_name: str,
        first_names: Sequence[str],
        sex: str | None,
        birth_date: str,
        birth_place: str | None,
    ) -> list[Person]:
        found = []
        for person in self._by_name_date.get((birth_name, birth_date), ()):
            if sex and person.sex != sex:
                continue
            if birth_place and person.birth_place != birth_place:
                continue
            if not _first_names_match(person.first_names, first_names):
                continue
            found.append(person)
        return found

    def search_vitale(
        self, matricule: str | None, birth_name: str | None, birth_date: str | None
    ) -> list[Person]:
        if matricule:
            person = self._by_matricule.get(matricule)
            if person is None:
                return []
            if birth_date and person.birth_date != birth_date:
                return []
            return [person]
        if birth_name and birth_date:
            return list(self._by_name_date.get((birth_name, birth_date), ()))
        return []


def _first_names_match(listed: str, sent: Sequence[str]) -> bool:
    if not sent:
        return False
    tokens = listed.split()
    if len(sent) == 1 and " " in sent[0]:
        return sent[0].split() == tokens
    return all(name in tokens for name in sent)
