"""The version of segur-core, the one plugins declare compatibility with."""

__version__ = "0.1.0"
