"""Test helpers shared by the plugin's tests, the demo and the cross-plugin tests: the
sandbox mailboxes."""

from __future__ import annotations

__all__ = ["APP_ADDRESS", "DOCTOR_ADDRESS", "PER_ADDRESS", "UNKNOWN_DOMAIN"]

#: The pharmacy's application mailbox (client certificate, EXTERNAL).
APP_ADDRESS = "app@pharmacie.mssante.test"
#: The pharmacist's personal mailbox (XOAUTH2 with a Pro Santé Connect token).
PER_ADDRESS = "claire.durand@pharmacie.mssante.test"
#: A physician's personal mailbox.
DOCTOR_ADDRESS = "jean.martin@medecin.mssante.test"
#: Recipients in this domain bounce (unknown mailbox) in the sandbox.
UNKNOWN_DOMAIN = "inconnu.mssante.test"
