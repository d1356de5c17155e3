"""The host contract segur expects from the LGO, its SQLite reference host and its
conformance kit."""

from hostspecs.hookspecs import HOST_HOOKS, hostimpl

__all__ = ["HOST_HOOKS", "hostimpl"]
