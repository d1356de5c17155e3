"""segur plugin package: dmp."""
