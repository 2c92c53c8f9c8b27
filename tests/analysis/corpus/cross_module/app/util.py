import subprocess


class Runner:
    def __init__(self, prefix):
        self.prefix = prefix

    def run(self, arg):
        return subprocess.run(self.prefix + arg, shell=True)  # expect: PY-CMDI


def passthrough(x):
    return x
