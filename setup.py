"""Only the optional C feature hasher is declared here; everything else is in pyproject.toml.

n3lang/training/_hashing.c computes one text's hashed features without numpy's per-call
overhead (prediction in a flow is about five times faster). It is optional: without a C
compiler the build skips it and n3lang uses the numpy path, which gives the same bits."""

import sys

from setuptools import Extension, setup

# no fused multiply-add: the float arithmetic must round exactly as numpy's does
FLAGS = [] if sys.platform == "win32" else ["-ffp-contract=off"]

setup(ext_modules=[Extension("n3lang.training._hashing", ["n3lang/training/_hashing.c"],
                             extra_compile_args=FLAGS, optional=True)])
