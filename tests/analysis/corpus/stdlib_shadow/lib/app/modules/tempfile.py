"""A module of the project named like a standard library module (an automation tool's
"tempfile" task): ``import tempfile`` elsewhere still means the standard library's."""


def NamedTemporaryFile(*args, **kwargs):
    return open(kwargs.get("name", "/tmp/task"), "w")
