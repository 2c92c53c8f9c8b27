"""Entry script (``python run.py``): the app is built by a factory of no well-known name."""

import sys

from aiohttp.web import run_app

from shop.app import init

if __name__ == "__main__":
    run_app(init(sys.argv[1:]), host="127.0.0.1", port=8080)
