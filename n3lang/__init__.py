"""n3lang: the .ai language, with deterministic local model training built in."""

__version__ = "0.1.0"
