import accounts


def test_register_then_login():
    accounts.register("sato", "correct-horse-42")
    assert accounts.login("sato", "correct-horse-42")
    assert not accounts.login("sato", "correct-horse-43")


def test_unknown_user():
    assert not accounts.login("nobody", "x")
