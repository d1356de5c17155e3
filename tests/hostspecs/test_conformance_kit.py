"""The conformance kit passes for the reference host and fails, with clear messages,
for hosts that break the contract."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

BROKEN_HOST = textwrap.dedent(
    '''
    import attrs
    from hostspecs.hookspecs import hostimpl
    from hostspecs.reference import ReferenceHost


    class BrokenHost(ReferenceHost):
        """Forgets the INS and a received document's check, matches names case-sensitively,
        lists dicts, never decides."""

        @hostimpl
        def host_get_patient(self, patient_id):
            patient = super().host_get_patient(patient_id)
            if patient is None:
                return None
            return attrs.evolve(patient, identity=attrs.evolve(patient.identity, ins=None))

        @hostimpl
        def host_find_patients(self, birth_name, first_name, birth_date, ins_matricule):
            found = super().host_find_patients(birth_name, first_name, birth_date, ins_matricule)
            exact = [p for p in found if p.identity.traits.birth_name == birth_name]
            return found if birth_name is None else exact

        @hostimpl
        def host_get_document(self, document_id):
            document = super().host_get_document(document_id)
            return None if document is None else attrs.evolve(document, check=None)

        @hostimpl
        def host_list_documents(self, patient_id):
            return [{"id": d.id} for d in super().host_list_documents(patient_id)]


        host_decide = None  # not a hook implementation any more


    def broken(directory):
        return BrokenHost(directory / "host.sqlite")
    '''
)


def run_kit(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "hostspecs.conformance",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            *args,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_reference_host_passes_the_kit(tmp_path: Path) -> None:
    result = run_kit(tmp_path, "--host-factory=hostspecs.conformance.factories:reference_host")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_broken_host_fails_with_messages_that_say_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "broken_host.py").write_text(BROKEN_HOST)
    result = run_kit(tmp_path, "--host-factory=broken_host:broken")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    for message in (
        "the host does not implement: host_decide",
        "host_decide: not implemented by the host",
        "host_get_patient: the patient read back differs",
        "birth_name must match case-insensitively",
        "host_list_documents: item 0 is builtins.dict, expected HealthDocument",
        "host_get_document: a received document must read back with its check",
    ):
        assert message in output, f"missing {message!r} in:\n{output}"


def test_unloadable_factory_is_a_usage_error(tmp_path: Path) -> None:
    result = run_kit(tmp_path, "--host-factory=no_such_module:factory")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "cannot be loaded" in result.stderr


NO_SPECIALTY_HOST = textwrap.dedent(
    '''
    import attrs
    from hostspecs.reference import ReferenceHost
    from segur_core.host import hostimpl


    class NoSpecialtyHost(ReferenceHost):
        """Gives the pharmacist no CNOP section: the DMP would refuse every feed."""

        @hostimpl
        def host_practitioner(self):
            return attrs.evolve(super().host_practitioner(), specialty=None)


    def make(directory):
        return NoSpecialtyHost(directory / "host.sqlite")
    '''
)


def test_a_host_the_dmp_cannot_use_fails_the_kit_naming_the_field(tmp_path: Path) -> None:
    (tmp_path / "no_specialty_host.py").write_text(NO_SPECIALTY_HOST)
    result = run_kit(tmp_path, "--host-factory=no_specialty_host:make", "-k", "need")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "segur-dmp: host_practitioner: specialty None names no CNOP section" in output


def test_the_pytest_command_finds_the_factory_in_the_project_directory(tmp_path: Path) -> None:
    """Not only under ``python -m pytest``, which puts the current directory on sys.path."""
    (tmp_path / "lgo_host.py").write_text(
        "from hostspecs.reference import reference_host as make\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "SEGUR_HOST"}}
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("pytest")),
            "--pyargs",
            "hostspecs.conformance",
            "-q",
            "-p",
            "no:cacheprovider",
            "--host-factory=lgo_host:make",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout
