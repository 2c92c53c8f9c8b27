"""A CGI script: the server passes the request in environment variables (RFC 3875)."""

import cgi
import os
import shlex
import subprocess


def main():
    name = os.environ.get("QUERY_STRING", "")
    with open("/srv/data/" + name) as fh:  # expect: PY-PATH
        print(fh.read())
    agent = os.environ["HTTP_USER_AGENT"]
    subprocess.call("log-agent " + agent, shell=True)  # expect: PY-CMDI
    form = cgi.FieldStorage()
    os.system("grep " + form.getfirst("q", ""))  # expect: PY-CMDI
    # set by the operator, not the client: the file it names is opened on purpose
    with open(os.environ["SEARCH_INDEX"]) as fh:
        print(fh.read())
    os.system("grep -- " + shlex.quote(form.getfirst("q", "")))


if __name__ == "__main__":
    main()
