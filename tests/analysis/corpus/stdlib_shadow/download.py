"""A downloaded archive saved to a temporary file: the file's name is the one tempfile chose,
not the server's data written into it."""

import tarfile
import tempfile
from urllib.request import urlopen


def fetch(url):
    url_file = urlopen(url)
    temp_file = tempfile.NamedTemporaryFile(delete=False)
    data = url_file.read()
    while data:
        temp_file.write(data)
        data = url_file.read()
    temp_file.close()
    return temp_file.name


def install(url):
    tmp = fetch(url)
    with tarfile.open(tmp, "r") as tf:
        tf.extractall("/srv/roles", filter="data")


def install_named(url):
    name = urlopen(url).read().decode().strip()
    tarfile.open("/srv/cache/" + name, "r")  # expect: PY-PATH
