"""fix stage."""
