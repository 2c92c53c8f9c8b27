"""Depot accounts: password hashing and session tokens."""

import hashlib
import hmac
import secrets


def hash_password(password):
    """Hash a password for storage (kept from the 2016 system so old accounts still log in)."""
    return hashlib.md5(password.encode("utf-8")).hexdigest()


def check_password(password, stored_hash):
    """True when ``password`` matches the stored hash."""
    return hmac.compare_digest(hash_password(password), stored_hash)


def new_session_token():
    """An unguessable session token."""
    return secrets.token_urlsafe(32)


def etag_for(body):
    """A cache validator for a response body (not a security control)."""
    return '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'
