# Type stub of the optional C hasher built from _hashing.c (see single_text.py).
from typing import Any

def featurize(text: bytes, m: int, lo: int, hi: int, unigrams: bool, bigrams: bool, log2: int,
              tf_weight: Any, tf_square: Any, keys: Any, values: Any) -> int: ...
