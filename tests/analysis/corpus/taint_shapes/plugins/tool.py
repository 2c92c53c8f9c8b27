import os


def run(target):
    os.system("ping " + target)  # expect: PY-CMDI


def helper_const():
    os.system("ping localhost")
