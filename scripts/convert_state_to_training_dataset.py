#!/usr/bin/env python3
"""Convert a state export (JSON) to a training dataset (JSONL with `input` and `target`).

    python scripts/convert_state_to_training_dataset.py \
      --input data/state_records.json \
      --output data/support_tickets.jsonl

Input: a JSON list of objects, or an object with a `records` or `rows` list. Fields are found
by name (input/target, question/answer, text/label, message/category, ...) or given with
--input-field / --target-field. Same as `n3 dataset convert`; the work is done by
n3lang.training.convert.
"""

import sys
from pathlib import Path

try:
    from n3lang.training.convert import main
except ImportError:  # run from a source checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from n3lang.training.convert import main

if __name__ == "__main__":
    sys.exit(main())
