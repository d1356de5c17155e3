"""segur plugin package: ins."""
