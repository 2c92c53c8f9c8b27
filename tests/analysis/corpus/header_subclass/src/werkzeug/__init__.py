"""A vendored framework whose Headers refuse CR/LF, like Werkzeug's: its package is named
werkzeug so the model of the real one applies to this copy."""
