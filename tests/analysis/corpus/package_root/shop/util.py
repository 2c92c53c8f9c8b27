import subprocess


def run_hook(cmd):
    subprocess.run(cmd, shell=True)  # expect: PY-CMDI
