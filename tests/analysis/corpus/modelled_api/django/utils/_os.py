"""A framework's own copy of an API the models describe: while the framework itself is scanned,
`safe_join` keeps its modelled meaning (it refuses paths outside the base) even though its
body, written with checks the engine does not follow, does not show it."""

import os


def safe_join(base, *paths):
    final = os.path.abspath(os.path.join(base, *paths))
    base_path = os.path.abspath(base)
    if not os.path.normcase(final).startswith(os.path.normcase(base_path) + os.sep):
        raise ValueError(final)
    return final
