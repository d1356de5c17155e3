"""segur plugin package: vitale."""
