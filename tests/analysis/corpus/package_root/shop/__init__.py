"""A package scanned from its own folder: its modules import each other as ``shop.…``."""
