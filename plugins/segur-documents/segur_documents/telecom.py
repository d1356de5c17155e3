"""Telephone numbers and e-mail addresses as users type them, turned into the URIs a CDA
``telecom/@value`` must hold.

The Structuration minimale schematron (``DTr1_URL``) requires ``@value`` to be a URI
(``iri-to-uri(@value) = @value``): ``tel:06 12 34 56 78`` is refused. A phone becomes an
RFC 3966 global number (``tel:+33612345678``, ``;ext=`` for an extension), an e-mail a
``mailto:`` URI (RFC 6068, percent-encoded where a URI needs it).

Phones are read with ``phonenumbers`` (libphonenumber's metadata): national French
numbers (``06 12 34 56 78``, dots, dashes, ``+33``, ``0033``, ``+33 (0)6…``), and the
overseas departments and collectivities reached through the French national plan
(``0590``/``0690`` Guadeloupe, Saint-Barthélemy, Saint-Martin; ``0596``/``0696``
Martinique; ``0594``/``0694`` Guyane; ``0262``/``0692`` La Réunion; ``0269``/``0639``
Mayotte), each given its own country code (``+590``, ``+596``, ``+594``, ``+262``);
Saint-Pierre-et-Miquelon, the Pacific collectivities and others outside the national plan
are typed with their international prefix. Any
number typed with its international prefix (``+687…``, ``00 1…``) is taken as such. What
cannot be read as a valid number is refused with :class:`TelecomError` naming the field,
never written verbatim; the message never repeats the value (it is personal data).
"""

from __future__ import annotations

from urllib.parse import quote

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from segur_core.errors import DocumentError

__all__ = ["TelecomError", "mailto_uri", "tel_uri"]

# the overseas departments' ranges of the French national plan (ARCEP): dialled 0596…
# in France, reached as +596 596… from abroad (libphonenumber's FR metadata would also
# take them as +33 5 96…, a number nobody answers)
_OVERSEAS = {
    **dict.fromkeys(("0590", "0690", "0691"), "GP"),  # with Saint-Barthélemy, Saint-Martin
    **dict.fromkeys(("0596", "0696", "0697"), "MQ"),
    **dict.fromkeys(("0594", "0694"), "GF"),
    **dict.fromkeys(("0262", "0263", "0692", "0693"), "RE"),
    **dict.fromkeys(("0269", "0639"), "YT"),
}
_MAX_TYPED = 64  # longer than any phone or e-mail a user types (RFC 5321 path: 256)
_MAX_EMAIL = 254  # RFC 5321 forward-path limit
# characters of an address's local part a mailto URI keeps as they are (RFC 6068)
_MAILTO_SAFE = "!$'*+=-._~"


class TelecomError(DocumentError):
    """A phone number or e-mail address cannot be written as a telecom URI; ``field`` says
    which one (``patient.phone``, ``structure.phone``, ``patient.email``...)."""

    def __init__(self, field: str, what: str, *, hint: str | None = None) -> None:
        super().__init__(f"{field}: not a valid {what}", hint=hint)
        self.field = field


def _parse_phone(text: str) -> phonenumbers.PhoneNumber | None:
    typed = text.strip()
    if typed.startswith("00"):
        typed = "+" + typed[2:]
    region = _OVERSEAS.get(phonenumbers.normalize_digits_only(typed)[:4], "FR")
    try:
        number = phonenumbers.parse(typed, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def tel_uri(text: str, *, field: str) -> str:
    """The ``tel:`` URI of a typed phone number (``tel:+33612345678``).

    Raises :class:`TelecomError` naming ``field`` when it is not a valid number.
    """
    number = _parse_phone(text) if len(text) <= _MAX_TYPED else None
    if number is None:
        raise TelecomError(
            field,
            "telephone number",
            hint="type a French number (06 12 34 56 78, +33 6 12 34 56 78) or an "
            "international one with its + prefix",
        )
    uri = "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.extension:
        uri += f";ext={number.extension}"
    return uri


def mailto_uri(text: str, *, field: str) -> str:
    """The ``mailto:`` URI of a typed e-mail address (``mailto:jean.dupont@example.fr``).

    The domain is lower-cased (and IDNA-encoded), the local part kept as typed and
    percent-encoded where a URI needs it. Raises :class:`TelecomError` naming ``field``.
    """
    typed = text.strip()
    try:
        if len(typed) > _MAX_EMAIL:
            raise EmailNotValidError("too long")
        checked = validate_email(typed, check_deliverability=False)
    except EmailNotValidError:
        raise TelecomError(field, "e-mail address", hint="type it as name@domain.fr") from None
    local, _, _ = checked.normalized.rpartition("@")
    domain = checked.ascii_domain
    return f"mailto:{quote(local, safe=_MAILTO_SAFE)}@{domain}"
