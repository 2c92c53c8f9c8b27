"""A plain WSGI function dispatching through a module-level table of functions, a handler
chosen by a branch, and ``getattr`` on a prefix."""

import os
import subprocess


def show(environ):
    return eval(environ.get("HTTP_X_EXPR", "0"))  # expect: PY-CODEI


def hello(environ):
    return "hello"


HANDLERS = {"show": show, "hello": hello}


def run_tool(arg):
    return subprocess.check_output("tool " + arg, shell=True)  # expect: PY-CMDI


def run_safe(arg):
    return subprocess.check_output(["tool", arg])


class Commands:
    def do_list(self, arg):
        return os.listdir(arg)  # expect: PY-PATH

    def do_echo(self, arg):
        return arg

    def dispatch(self, name, arg):
        return getattr(self, "do_" + name)(arg)


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/").strip("/")
    handler = HANDLERS.get(path, hello)
    body = handler(environ)
    runner = run_tool if path == "tool" else run_safe
    runner(environ.get("QUERY_STRING", ""))
    Commands().dispatch(path, environ.get("HTTP_X_ARG", ""))
    start_response("200 OK", [])
    return [str(body).encode()]


def operator_settings():
    """Environment variables belong to whoever deploys the service: a file they name is
    opened, not attacked; a command line built from them is still reported."""
    with open(os.environ.get("TOOL_CONFIG", "tool.ini")) as fh:
        config = fh.read()
    os.system("backup " + os.environ["BACKUP_DIR"])  # expect: PY-CMDI
    return config
