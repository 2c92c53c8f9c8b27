"""Host diagnostics for the on-call engineer: disk space of the data volumes."""

import subprocess


def disk_usage(path):
    """``df`` output for the volume holding ``path`` (POSIX format, 1K blocks)."""
    result = subprocess.run(f"df -P -k {path}", shell=True, capture_output=True, text=True, timeout=10)
    return parse_df(result.stdout), result.returncode


def inode_usage(path):
    """Inode usage for the volume holding ``path``."""
    result = subprocess.run(
        ["df", "-P", "-i", "--", path], capture_output=True, text=True, timeout=10, check=False
    )
    return parse_df(result.stdout), result.returncode


def parse_df(output):
    """Rows of POSIX ``df -P`` output as dicts (the header line names the columns)."""
    lines = [line for line in output.splitlines() if line.strip()]
    rows = []
    for line in lines[1:]:
        parts = line.split()
        if len(parts) < 6:
            continue
        rows.append(
            {
                "filesystem": parts[0],
                "total": int(parts[1]) if parts[1].isdigit() else None,
                "used": int(parts[2]) if parts[2].isdigit() else None,
                "available": int(parts[3]) if parts[3].isdigit() else None,
                "capacity": parts[4],
                "mounted_on": " ".join(parts[5:]),
            }
        )
    return rows
