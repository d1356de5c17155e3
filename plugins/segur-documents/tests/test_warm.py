"""The warm validator of ``segur serve``: a worker process holding a Validator, the same
reports as in process, a new worker after one died."""

from __future__ import annotations

import os
import signal

import pytest
from segur_documents.checks.warm import Validators, WarmValidator
from segur_documents.config import DocumentsConfig
from segur_documents.service import validator_for

from segur_core.errors import DocumentError


@pytest.fixture
def config(kit_path, cache_dir):
    return DocumentsConfig(kit_path=str(kit_path), cache_dir=str(cache_dir), schematron=False)


def test_the_worker_is_another_process_and_answers_like_the_in_process_validator(config, kit_path):
    example = (kit_path / "ExemplesCDA" / "VAC-NOTE_2023.01.xml").read_bytes()
    broken = example.replace(b"<recordTarget", b"<recordTargetX", 1)
    warm = WarmValidator(config)
    try:
        warm.warm_up()
        assert warm.worker_pid() != os.getpid()
        local = validator_for(config)
        for xml in (example, broken, b"not xml"):
            assert warm.validate(xml).as_dict() == local.validate(xml).as_dict()
        assert not warm.validate(broken).valid

        os.kill(warm.worker_pid(), signal.SIGKILL)  # out of memory, killed by an operator
        with pytest.raises(DocumentError, match="validation worker failed"):
            warm.validate(example)
        assert warm.validate(example).valid  # a new worker
    finally:
        warm.close()


def test_the_runtime_uses_the_warm_validator_for_its_own_configuration(config):
    validators = Validators()
    assert validators.for_config(config) is validator_for(config)
    validators.warm = WarmValidator(config)
    assert validators.for_config(config) is validators.warm
    other = DocumentsConfig(kit_path=config.kit_path, cache_dir=config.cache_dir)
    assert validators.for_config(other) is validator_for(other)
    validators.close()
