"""The INSi sandbox: a faithful local peer of the CNAM INSi téléservice.

Run it with ``InsiSandbox(pki=TestPKI.create(dir))`` (mutual TLS with the test PKI), or
through the runtime: ``runtime.sandbox("insi")``.
"""

from segur_ins.sandbox.app import InsiSandbox, build_app
from segur_ins.sandbox.directory import Directory
from segur_ins.sandbox.persons import CNDA_PERSONS, Person, generate_persons
from segur_ins.sandbox.service import ALLOWED_CNS, InsiService, SandboxFault

__all__ = [
    "ALLOWED_CNS",
    "CNDA_PERSONS",
    "Directory",
    "InsiSandbox",
    "InsiService",
    "Person",
    "SandboxFault",
    "build_app",
    "generate_persons",
]
