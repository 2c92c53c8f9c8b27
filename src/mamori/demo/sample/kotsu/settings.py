"""Service settings from ``config/kotsu.yaml`` (operator-owned file, parsed safely)."""

import os

import yaml

DEFAULTS = {"database": ":memory:", "data_volume": "/", "lines": []}


def load_settings(path=None):
    """Settings merged over the defaults; a missing file means defaults."""
    path = path or os.environ.get("KOTSU_CONFIG", os.path.join("config", "kotsu.yaml"))
    settings = dict(DEFAULTS)
    try:
        with open(path, encoding="utf-8") as fh:
            loaded = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        return settings
    settings.update(loaded)
    return settings
