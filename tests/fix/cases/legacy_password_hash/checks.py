"""Behaviour and exploit checks mamori never sees: run against the project after the fix."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import accounts

CHECKS: list[tuple[str, str, str, Callable[[], bool]]] = []


def check(kind: str, function: str, name: str) -> Callable[[Callable[[], bool]], Callable[[], bool]]:
    def add(f: Callable[[], bool]) -> Callable[[], bool]:
        CHECKS.append((kind, function, name, f))
        return f

    return add


@check("behaviour", "hash_password", "an account stored by the 2016 system still logs in")
def _legacy() -> bool:
    accounts.USERS["kato"] = hashlib.md5(b"old-password-1").hexdigest()
    return accounts.login("kato", "old-password-1") and not accounts.login("kato", "old-password-2")


@check("behaviour", "hash_password", "a new account logs in")
def _new() -> bool:
    accounts.register("ito", "new-password-9")
    return accounts.login("ito", "new-password-9") and not accounts.login("ito", "new-password-8")


@check("exploit", "hash_password", "new passwords are not stored as a fast unsalted digest")
def _strong() -> bool:
    a, b = accounts.hash_password("same-pw"), accounts.hash_password("same-pw")
    fast = re.fullmatch(r"[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}", a) is not None
    return not fast and a != b  # salted: the same password hashes differently
