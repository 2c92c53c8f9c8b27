from app import app


def test_role_lookup():
    client = app.test_client()
    assert client.get("/role", query_string={"name": "a&b"}).get_json() == {"role": "admin"}


def test_hello():
    assert b"Hello sato" in app.test_client().get("/hello?who=sato").data
