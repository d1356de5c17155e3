"""The MSSanté sandbox: a real Dovecot with a DSN-keeping relay and a stand-in Pro Santé
Connect token issuer (the ``sandbox`` extra: aiosmtpd; Dovecot from the system)."""

from segur_mssante.sandbox.dovecot import MailSandbox, dovecot_missing
from segur_mssante.sandbox.relay import DSNRelay, RelayedMessage
from segur_mssante.sandbox.tokens import TokenIssuer

__all__ = ["DSNRelay", "MailSandbox", "RelayedMessage", "TokenIssuer", "dovecot_missing"]
