"""segur plugin package: example."""
