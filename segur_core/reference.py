"""Official reference data segur reads but never ships nor changes (the ANS CI-SIS CDA
test kit, the INSi schemas), found the same way by every plugin and never relative to
the current directory:

1. the configured path (a setting such as ``documents.kit_path``): it must hold the data;
2. an environment variable (``SEGUR_CISIS_KIT``);
3. an installed data package: a distribution declaring an entry point in the
   ``segur.reference`` group named after the data (``cisis-kit = "my_kit_package"``: the
   package's folder; or ``"my_kit_package:PATH"``: a path attribute of it);
4. in a source checkout of segur, ``../shared/`` beside the checkout (found from this
   file's location, so it works from any directory): where the tests find it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from segur_core.errors import ConfigError
from segur_core.i18n import LazyText, _, _l

__all__ = [
    "CISIS_KIT",
    "CISIS_STYLESHEETS",
    "INSI_SCHEMAS",
    "REFERENCE_GROUP",
    "Reference",
    "find_reference",
]

#: Entry-point group of installed data packages.
REFERENCE_GROUP = "segur.reference"


@attrs.frozen
class Reference:
    """One kind of reference data and how to recognise it."""

    #: Entry-point name in :data:`REFERENCE_GROUP`.
    name: str
    #: Environment variable naming its folder.
    env: str
    #: A file every copy holds, relative to its folder.
    marker: str
    #: Its folder under ``shared/`` beside a source checkout.
    checkout: str
    #: What it is, for messages.
    title: str | LazyText


CISIS_KIT = Reference(
    name="cisis-kit",
    env="SEGUR_CISIS_KIT",
    marker="infrastructure/cda/CDA_extended.xsd",
    checkout="cisis/TestContenuCDA-3-0",
    title=_l("CI-SIS test kit (TestContenuCDA)"),
)
#: The kit's display stylesheets (``FeuilleDeStyle``: ``CDA-FO.xsl`` and its localisation
#: files), beside the kit in ``shared/`` and inside it upstream.
CISIS_STYLESHEETS = Reference(
    name="cisis-stylesheets",
    env="SEGUR_CISIS_STYLESHEETS",
    marker="CDA-FO.xsl",
    checkout="cisis/FeuilleDeStyle",
    title="CI-SIS display stylesheets (FeuilleDeStyle)",  # shown only for a broken data package
)
INSI_SCHEMAS = Reference(
    name="insi",
    env="SEGUR_INSI_DIR",
    marker="wsdl/xsd",
    checkout="insi",
    title=_l("INSi schemas"),
)


def _holds(folder: Path, reference: Reference) -> bool:
    return (folder / reference.marker).exists()


def _packaged(reference: Reference) -> Path | None:
    """The folder an installed data package declares for ``reference``."""
    import importlib.util
    from importlib.metadata import entry_points

    for ep in entry_points(group=REFERENCE_GROUP, name=reference.name):
        module, _sep, attr = ep.value.partition(":")
        if attr:
            folder = Path(os.fspath(ep.load()))
        else:
            spec = importlib.util.find_spec(module.strip())
            locations = list(spec.submodule_search_locations or ()) if spec else []
            if not locations:
                continue
            folder = Path(locations[0])
        if not _holds(folder, reference):
            dist = ep.dist.name if ep.dist is not None else ep.value
            raise ConfigError(
                _(
                    "the data package {dist} declares a {what} at {folder}, which has no {marker}"
                ).format(dist=dist, what=reference.title, folder=folder, marker=reference.marker),
                key=f"{REFERENCE_GROUP}.{reference.name}",
            )
        return folder.resolve()
    return None


def _checkout(reference: Reference) -> Path | None:
    """``shared/<checkout>`` beside the segur source tree this module runs from."""
    root = Path(__file__).resolve().parents[1]
    if not ((root / "pyproject.toml").is_file() and (root / "plugins").is_dir()):
        return None  # an installed segur-core: no checkout around it
    candidate = root.parent / "shared" / reference.checkout
    return candidate.resolve() if _holds(candidate, reference) else None


def find_reference(
    reference: Reference,
    configured: str | os.PathLike[str] | None = None,
    *,
    key: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path | None:
    """The folder of ``reference`` (see the module's order), or ``None``. A configured
    path that does not hold it is a :class:`ConfigError` naming ``key``; an environment
    variable that does not is skipped (a shell may keep an old one)."""
    env = os.environ if environ is None else environ
    if configured:
        folder = Path(configured).expanduser()
        if not _holds(folder, reference):
            raise ConfigError(
                _("no {what} at {folder}").format(what=reference.title, folder=configured),
                key=key,
                hint=_("point it at a folder holding {marker}").format(marker=reference.marker),
            )
        return folder.resolve()
    if env.get(reference.env):
        folder = Path(env[reference.env]).expanduser()
        if _holds(folder, reference):
            return folder.resolve()
        return None
    return _packaged(reference) or _checkout(reference)
