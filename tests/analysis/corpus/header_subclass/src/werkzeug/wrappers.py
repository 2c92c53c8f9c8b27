class Headers(dict):
    def __setitem__(self, key, value):
        if "\n" in value or "\r" in value:
            raise ValueError("Header values must not contain newline characters.")
        super().__setitem__(key, value)


class Response:
    def __init__(self, body=""):
        self.body = body
        self.headers = Headers()
