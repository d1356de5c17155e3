"""The ``[documents]`` table of ``segur.toml``.

.. code-block:: toml

    [documents]
    kit_path = "/opt/ans/TestContenuCDA-3-0"   # default: $SEGUR_CISIS_KIT, a data package
    # xsd_path: default the kit's infrastructure/cda/CDA_extended.xsd
    # cache_dir: default $XDG_CACHE_HOME/segur/cisis
    local_patient_id_root = "1.2.250.1.999.1"  # OID of the pharmacy's local patient ids
    schematron = true                          # run the official schematrons
"""

# no ``from __future__ import annotations``: cattrs structures these fields from their types

import attrs

from segur_core.errors import ConfigError

__all__ = ["DocumentsConfig"]


def _oid(instance, attribute, value) -> None:
    from segur_documents.models import is_oid

    if value is not None and not is_oid(value):
        raise ConfigError(f"must be an OID, got {value!r}", key=f"documents.{attribute.name}")


@attrs.frozen
class DocumentsConfig:
    """Settings of the segur-documents plugin.

    ``kit_path``: the ANS TestContenuCDA kit (XSD, schematrons, value sets); when no kit
    is found the plugin runs only its own structural checks and says so.
    ``xsd_path``: another CDA schema. ``cache_dir``: where the compiled schematrons are
    kept. ``local_patient_id_root``: OID under which the pharmacy's local patient ids
    are written (default: a ``2.25`` OID derived from the FINESS).
    ``schematron``: run the official schematrons (slow to compile the first time).
    """

    kit_path: str | None = None
    xsd_path: str | None = None
    cache_dir: str | None = None
    local_patient_id_root: str | None = attrs.field(default=None, validator=_oid)
    schematron: bool = True
