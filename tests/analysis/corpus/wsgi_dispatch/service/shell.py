"""Helpers in another module: the flow from the request crosses into them."""

import subprocess


def ping(host):
    return subprocess.run("ping -c 1 " + host, shell=True, capture_output=True)  # expect: PY-CMDI


def ping_safe(host):
    return subprocess.run(["ping", "-c", "1", "--", host], capture_output=True)
