"""What segur-dmp needs from the host, said before the first feed: the pharmacist's
CNOP section and names (the VIHF carries them), checked through the runtime."""

from __future__ import annotations

import attrs
import pytest
from segur_dmp.vihf import practitioner_problems

from segur_core.model import Practitioner
from segur_core.runtime import create_runtime

PHARMACIST = Practitioner("10999900003", "DURAND", "PAUL", specialty="G15_21/A")


@pytest.mark.parametrize("specialty", ["G15_21/A", "G15_21/D", "G15_21/DA", "G15_21/H"])
def test_a_pharmacist_with_a_cnop_section_is_enough(specialty):
    assert practitioner_problems(attrs.evolve(PHARMACIST, specialty=specialty)) == []


@pytest.mark.parametrize("specialty", [None, "", "G15_21", "G15_21/Z", "A"])
def test_a_pharmacist_without_a_cnop_section_is_a_problem_naming_the_field(specialty):
    (problem,) = practitioner_problems(attrs.evolve(PHARMACIST, specialty=specialty))
    assert problem.startswith(f"host_practitioner: specialty {specialty!r} names no CNOP")
    assert "G15_21/A" in problem and "DURAND" not in problem


def test_empty_names_are_problems_and_other_professions_need_no_section():
    doctor = Practitioner("10999900011", " ", "", profession="10")
    assert practitioner_problems(doctor) == [
        "host_practitioner: family_name is empty (the VIHF subject-id)",
        "host_practitioner: given_name is empty (the VIHF subject-id)",
    ]


def test_the_runtime_reports_what_the_host_lacks(tmp_path):
    from hostspecs.reference import ReferenceHost, reference_host
    from segur_core.host import hostimpl

    class NoSection(ReferenceHost):
        @hostimpl
        def host_practitioner(self):
            return attrs.evolve(super().host_practitioner(), specialty=None)

    config = {"segur": {"plugins": ["dmp"]}}
    with create_runtime(config, host=NoSection(tmp_path / "h.sqlite"), data_dir=tmp_path) as rt:
        assert [plugin for plugin, _ in rt.host_problems()] == ["dmp"]
    good = reference_host(tmp_path / "good")
    with create_runtime(config, host=good, data_dir=tmp_path / "good") as runtime:
        assert runtime.host_problems() == []
    good.close()
