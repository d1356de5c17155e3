"""segur plugin package: documents."""
