"""How a name is judged to hold a secret (the PY-WEAKRAND context rule)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mamori.analysis._checks import _secret_word

PLAIN = st.sampled_from(["delay", "server", "sample", "order", "index", "jitter", "deck", "item", "count"])
SECRET = st.sampled_from(["token", "password", "nonce", "salt", "csrf", "otp", "session", "cookie"])


@given(st.lists(PLAIN, min_size=1, max_size=4))
def test_names_made_of_plain_words_are_not_secrets(words: list[str]) -> None:
    assert _secret_word("_".join(words)) == ""


@given(st.lists(PLAIN, max_size=3), SECRET, st.lists(PLAIN, max_size=3), st.booleans())
def test_a_secret_word_anywhere_makes_a_secret(
    before: list[str], secret: str, after: list[str], camel: bool
) -> None:
    words = [*before, secret, *after]
    name = words[0] + "".join(w.title() for w in words[1:]) if camel else "_".join(words)
    assert _secret_word(name) != ""


def test_key_is_a_secret_only_with_a_qualifier() -> None:
    assert _secret_word("api_key") and _secret_word("signingKey") and _secret_word("SECRET_KEY")
    assert not _secret_word("key") and not _secret_word("sort_key") and not _secret_word("keys")


def test_tokenizer_is_not_a_token() -> None:
    assert not _secret_word("tokenizer_state")
