"""`random` where the value must be unguessable (reported) and where it need not be (not)."""

import random
import string
import time
from random import choice

from flask import session

ALPHABET = string.ascii_letters + string.digits


def make_reset_token():
    return "".join(random.choice(ALPHABET) for _ in range(32))  # expect: PY-WEAKRAND


def new_user(name):
    password = "".join(choice(ALPHABET) for _ in range(12))  # expect: PY-WEAKRAND
    return {"name": name, "api_key": random.getrandbits(64)}  # expect: PY-WEAKRAND


def remember_me(response, store, cookie):
    value = str(random.random())[2:]  # expect: PY-WEAKRAND
    store[cookie] = value
    return response


def login():
    nonce = random.randint(0, 2**32)  # expect: PY-WEAKRAND
    session["csrf"] = str(random.getrandbits(32))  # expect: PY-WEAKRAND
    return nonce


def _digits(n):
    return "".join(str(random.randint(0, 9)) for _ in range(n))  # expect: PY-WEAKRAND


def send_code(user):
    otp = _digits(6)
    user.notify(otp)


def backoff(attempt):
    delay = min(60, 2**attempt) + random.uniform(0, 1)
    time.sleep(delay)


def pick_server(servers):
    return random.choice(servers)


def cull(entries, frequency):
    return random.sample(entries, len(entries) // frequency)


def simulate(n):
    hits = 0
    for _ in range(n):
        if random.random() < 0.5:
            hits += 1
    deck = list(range(52))
    random.shuffle(deck)
    return hits, deck


def tokenize_sample(tokens):
    # a token of a parser, not a secret: the tokenizer's input order
    tokenizer_order = random.sample(tokens, len(tokens))
    return tokenizer_order
