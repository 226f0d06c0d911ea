"""The reviewed knowledge base, shipped as package data, and ``load()`` to read and check it."""

from fusionwatch.knowledge.loader import load, load_labels, read_files

__all__ = ["load", "load_labels", "read_files"]
