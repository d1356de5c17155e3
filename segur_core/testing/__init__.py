"""Test helpers for segur and its plugins: fixtures, recorders (the test PKI is in
:mod:`segur_core.sandbox.pki`)."""
