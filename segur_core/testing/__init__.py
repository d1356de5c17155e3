"""Test helpers for segur and its plugins: fixtures, recorders, the test PKI."""
