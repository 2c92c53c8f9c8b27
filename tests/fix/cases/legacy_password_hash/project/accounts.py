"""Accounts of the depot: the users table and logins (old accounts must still log in)."""

import hashlib
import hmac

USERS: dict[str, str] = {}


def hash_password(password):
    """Hash a password for storage (the format of the 2016 system, so old accounts still log in)."""
    return hashlib.md5(password.encode("utf-8")).hexdigest()


def check_password(password, stored):
    """True when ``password`` matches ``stored``."""
    return hmac.compare_digest(hash_password(password), stored)


def register(name, password):
    USERS[name] = hash_password(password)


def login(name, password):
    stored = USERS.get(name)
    return stored is not None and check_password(password, stored)
