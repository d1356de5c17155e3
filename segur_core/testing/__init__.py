"""Test helpers for segur and its plugins: fixtures, recorders, a misbehaving HTTPS
server (:mod:`segur_core.testing.rogue`); the test PKI is in :mod:`segur_core.sandbox.pki`."""
