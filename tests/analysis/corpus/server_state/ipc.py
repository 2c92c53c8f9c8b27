"""Sockets: a Unix domain socket talks to a local process the program chose (its own helper);
a TCP socket talks to whoever connects. HTTP responses are followed like links."""

import json
import pickle
import socket
from urllib.request import urlopen


def recv_all(sock):
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


def ask_helper(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return pickle.loads(recv_all(s))


def ask_helper_by_keyword(path):
    s = socket.socket(family=socket.AF_UNIX)
    s.connect(path)
    return pickle.loads(s.recv(65536))


def serve(port):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("0.0.0.0", port))
    listener.listen()
    conn, _ = listener.accept()
    return pickle.loads(recv_all(conn))  # expect: PY-DESER


def all_pages(api):
    pages = []
    url = api
    while url:
        page = json.loads(urlopen(url).read())
        pages.append(page["results"])
        url = page.get("next")
    return pages


def run_remote(api):
    code = urlopen(api).read()
    exec(code)  # expect: PY-CODEI
