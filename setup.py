"""Only the optional C modules are declared here; everything else is in pyproject.toml.

n3lang/training/_hashing.c computes one text's hashed features without numpy's per-call
overhead (prediction in a flow is about five times faster); n3lang/training/_sgd.c runs the
text softmax's training loop (training is ~50x faster). Both are optional: without a C
compiler the build skips them and n3lang uses the numpy paths, which give the same bits."""

import sys

from setuptools import Extension, setup

# no fused multiply-add: the float arithmetic must round exactly as numpy's does
FLAGS = [] if sys.platform == "win32" else ["-ffp-contract=off"]
# -O3 vectorises the loops over labels: each label's sum keeps its order, so the bits do not change
SGD_FLAGS = FLAGS if sys.platform == "win32" else [*FLAGS, "-O3"]

setup(ext_modules=[
    Extension("n3lang.training._hashing", ["n3lang/training/_hashing.c"], extra_compile_args=FLAGS, optional=True),
    Extension("n3lang.training._sgd", ["n3lang/training/_sgd.c"], extra_compile_args=SGD_FLAGS, optional=True),
])
