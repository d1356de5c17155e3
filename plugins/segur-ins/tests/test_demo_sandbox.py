"""The demo steps (alone and after segur-vitale's card reading) and the sandbox's data."""

from __future__ import annotations

import re

import pytest
from segur_ins.nir import Nir, mask
from segur_ins.sandbox import Directory, generate_persons
from segur_ins.sandbox.persons import CNDA_PERSONS

from segur_core.config import Config
from segur_core.demo import run_demo


def _demo(plugins: list[str]):
    config = Config.from_dict({"segur": {"plugins": plugins}})
    return run_demo(config, autoload=True)


def test_demo_without_vitale_qualifies_a_manual_reading():
    result = _demo(["ins"])
    assert result.ok, result.steps
    messages = [e["message"] for e in result.timeline if e.get("actor") == "segur-ins"]
    assert any("RECUP" in m for m in messages) and any("QUAL" in m for m in messages)
    for message in messages:
        assert not re.search(r"\d{13}", message)  # no raw NIR on the timeline


def test_demo_after_the_vitale_card_reading():
    pytest.importorskip("segur_vitale.demo")
    result = _demo(["vitale", "ins"])
    assert result.ok, result.steps
    titles = [s["title"] for s in result.steps]
    assert titles.index("Carte Vitale reading") < titles.index(
        "INSi qualification of the identity"
    )
    statuses = [e.get("status") for e in result.timeline if e.get("actor") == "segur-ins"]
    assert statuses[-2:] == ["RECUP", "QUAL"]


def test_mask():
    assert mask("275126322074974") == "2 75 12 ** *** *** 74"
    assert mask("short") == "***"


def test_generated_persons_are_deterministic_and_valid():
    first = list(generate_persons(500, seed=5))
    assert first == list(generate_persons(500, seed=5))
    assert first != list(generate_persons(500, seed=6))
    assert len({p.nir for p in first}) == 500
    for person in first:
        assert Nir.parse(person.nir).body == person.matricule
        person.traits()  # valid model values


def test_every_generated_person_is_found_alone():
    persons = list(generate_persons(300, seed=9))
    directory = Directory(persons)
    for person in persons:
        traits = person.traits()
        found = directory.search_traits(
            person.birth_name, traits.first_names[:1], person.sex, person.birth_date, None
        )
        assert found == [person]


def test_cnda_persons_keys():
    bad = [p.birth_name for p in CNDA_PERSONS if not Nir.parse(p.nir, verify_key=False).key_ok]
    assert bad == ["HERMANN"]  # the CNDA data's own inconsistency, served as is
