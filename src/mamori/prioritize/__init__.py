"""prioritize stage."""
