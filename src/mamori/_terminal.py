"""Text from scanned data made safe for a terminal.

Paths, advisory titles, hosts and log fields come from files an attacker may write. Printed as
they are, an escape sequence can rewrite the screen (hide a finding, fake a "No vulnerabilities
found"), a bidi override can reorder a path, and a ``[/x]`` read as Rich markup can crash the
printer. Every terminal renderer passes such text through :func:`terminal_safe` (and Rich's
``escape`` when the string is printed with markup on).
"""

from __future__ import annotations

import re

__all__ = ["terminal_safe"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with control characters (escape sequences, bidi overrides, carriage returns)
    shown as ``\\xNN``/``\\uNNNN`` escapes; newlines and tabs kept. Idempotent."""
    return _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text
    )
