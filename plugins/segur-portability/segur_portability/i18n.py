"""The messages of segur_portability in the run's language (see :mod:`segur_core.i18n` for how to
mark one); the help of its commands is translated by the core from this catalog."""

from segur_core.i18n import Catalog

__all__ = ["_", "_l", "ngettext"]

_, _l, ngettext = Catalog.of(__file__)
