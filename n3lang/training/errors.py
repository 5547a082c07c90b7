"""Diagnostic codes of the training family (config, bases, datasets, artifacts, registry).

Each code is registered once with its why / fix / example; the raising sites give the
specific "what happened" message (naming the key, the file and line, the value).
"""

from __future__ import annotations

from n3lang.diagnostics import Diagnostic, DiagnosticError, make, register
from n3lang.span import UNKNOWN, Span

CAPABILITY_MISSING = register(
    "training-capability-missing",
    why="Training is opt-in: an app must declare the `training` capability before `n3 train` "
    "reads any data or writes any model.",
    fix="Add `training` to the app's capabilities block, then run `n3 train` again.",
    example='spec is "1.0"\n\ncapabilities:\n  training\n\nflow "demo":\n  return "ok"',
)
APP_MISSING = register(
    "training-app-missing",
    why="`n3 train` works for an app: it looks for ./app.ai, then the nearest parent directory "
    "holding app.ai, and needs that app to declare the `training` capability.",
    fix="Create app.ai in your project directory (or pass its path: `n3 train path/app.ai ...`).",
    example='# app.ai\nspec is "1.0"\n\ncapabilities:\n  training\n\nflow "demo":\n  return "ok"',
)
APP_INVALID = register(
    "training-app-invalid",
    why="The app file could not be parsed, so its capabilities are unknown.",
    fix="Run `n3 check app.ai` and fix the reported problems.",
    example="n3 check app.ai",
)
CONFIG_MISSING = register(
    "config-missing-field",
    why="Training needs to know the base model, the dataset and the name to register the result under.",
    fix="Pass the missing value as a flag or put it in training.yaml.",
    example="n3 train --model-base gpt-3.5-turbo --dataset data/support_tickets.jsonl \\\n"
    "  --epochs 3 --learning-rate 2e-5 --seed 13 --output-name supportbot.faq_model_v2",
)
CONFIG_UNKNOWN_KEY = register(
    "config-unknown-key",
    why="training.yaml accepts only the documented keys, so a typo cannot be silently ignored.",
    fix="Rename or remove the key (`n3 schema training-config` lists every key).",
    example="model_base: gpt-3.5-turbo\ndataset: data/support_tickets.jsonl\noutput_name: supportbot.faq_model_v2",
)
CONFIG_INVALID = register(
    "config-invalid-value",
    why="Each training setting has a type and a range (see `n3 schema training-config`).",
    fix="Give the setting a value of the right type within its range.",
    example="model_base: gpt-3.5-turbo\nepochs: 3\nlearning_rate: 2e-5\nvalidation_split: 0.2",
)
CONFIG_FILE = register(
    "config-file-invalid",
    why="The config file must be a readable YAML mapping of settings, at most 1 MiB.",
    fix="Write training.yaml as `key: value` lines.",
    example="model_base: gpt-3.5-turbo\ndataset: data/support_tickets.jsonl\nepochs: 3\n"
    "learning_rate: 2e-5\nseed: 13\noutput_name: supportbot.faq_model_v2",
)
MODE_UNSUPPORTED = register(
    "mode-unsupported",
    why="Training supports the modes text, image and audio.",
    fix="Set mode to one of: text, image, audio.",
    example="mode: text",
)
BASE_UNSUPPORTED = register(
    "base-unsupported",
    why="Only the bases in the catalog can be trained locally (`n3 models bases` lists them); "
    "generative image and speech bases cannot be trained on this machine.",
    fix="Pick a base that is listed for your mode.",
    example="model_base: text-base",
)
BASE_MODE_MISMATCH = register(
    "base-mode-mismatch",
    why="Each base trains one kind of data; this base belongs to another mode.",
    fix="Pick a base listed for the chosen mode, or change the mode.",
    example="mode: text\nmodel_base: text-base",
)
DATASET_MISSING = register(
    "dataset-missing",
    why="The dataset path is resolved relative to the app's directory, and no file is there.",
    fix="Check the path (relative to the directory holding app.ai) or create the file.",
    example='data/support_tickets.jsonl:\n{"input": "I forgot my password", "target": "account"}',
)
DATASET_EMPTY = register(
    "dataset-empty",
    why="Training needs labelled rows; this dataset has none.",
    fix="Add one JSON object per line with an input and a target.",
    example='{"input": "I forgot my password", "target": "account"}\n'
    '{"input": "My invoice is wrong", "target": "billing"}',
)
DATASET_ENCODING = register(
    "dataset-encoding",
    why="Datasets are read as UTF-8 text.",
    fix="Re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.jsonl > out.jsonl`).",
    example='{"input": "café fermé", "target": "closed"}',
)
DATASET_ROW = register(
    "dataset-row-invalid",
    why="Every line of a JSONL dataset must be one JSON object with an input and a target "
    "(target aliases: label, output, transcript); nothing is trained until every row is valid.",
    fix="Correct the line as described.",
    example='{"input": "I forgot my password", "target": "account"}',
)
DATASET_TOO_LARGE = register(
    "dataset-too-large",
    why="Datasets are read within limits (a whole file, one line) so that memory stays bounded: "
    "N3_MAX_DATASET_BYTES (default 512 MiB) and N3_MAX_LINE_BYTES (default 32 MiB).",
    fix="Split the dataset or shorten the line, or raise the limit, e.g. N3_MAX_DATASET_BYTES=2000000000.",
    example="N3_MAX_DATASET_BYTES=2000000000 n3 train --config training.yaml",
)
DATASET_TOO_SMALL = register(
    "dataset-too-small",
    why="A model needs at least 2 usable rows: one to learn from and one to validate on.",
    fix="Add more labelled rows to the dataset.",
    example='{"input": "I forgot my password", "target": "account"}\n'
    '{"input": "My invoice is wrong", "target": "billing"}',
)
DATASET_SINGLE_CLASS = register(
    "dataset-single-class",
    why="A classifier needs at least two different targets to tell apart.",
    fix="Add rows with at least one other target.",
    example='{"input": "I forgot my password", "target": "account"}\n'
    '{"input": "My invoice is wrong", "target": "billing"}',
)
OUTPUT_NAME_INVALID = register(
    "output-name-invalid",
    why="output_name names a model and becomes a directory under models/; it must not be a path.",
    fix="Use letters, digits, `.`, `_` and `-` only, not starting with a dot.",
    example="output_name: supportbot.faq_model_v2",
)
OUTPUT_NAME_EXISTS = register(
    "output-name-exists",
    why="The registry is append-only: a registered model is never overwritten.",
    fix="Choose a new output_name (e.g. bump the version suffix).",
    example="output_name: supportbot.faq_model_v3",
)
REGISTRY_CORRUPTED = register(
    "registry-corrupted",
    why="models_registry.yaml is append-only and hash-chained; it is never rewritten automatically.",
    fix="Restore the file from version control or a backup; n3 left it untouched.",
    example="git checkout -- models_registry.yaml",
)
MODEL_NOT_FOUND = register(
    "model-not-found",
    why="Models are looked up in models_registry.yaml of the project.",
    fix="Train the model first, or use a registered name (`n3 models list`).",
    example="n3 train --config training.yaml",
)
MODEL_DEPRECATED = register(
    "model-deprecated",
    why="The registry marks this model version as no longer to be used.",
    fix="Use another version of the model (`n3 models list`).",
    example='predict "supportbot.faq_model_v3" with input.question',
)
MODEL_CORRUPTED = register(
    "model-corrupted",
    why="The model file's sha256 does not match the registry, so it may have been changed or damaged.",
    fix="Retrain the model under a new name, or restore the original file.",
    example="n3 models verify supportbot.faq_model_v2",
)
PREDICT_INPUT = register(
    "predict-input-invalid",
    why="A prediction needs an input of the kind the model was trained on.",
    fix="Pass text for text models, or a file path for image and audio models.",
    example='n3 predict supportbot.faq_model_v2 "I forgot my password"',
)
TRAINING_FAILED = register(
    "training-failed",
    why="Training could not finish with these data and settings.",
    fix="Read the message; adjust the dataset or settings and try again.",
    example="n3 train --config training.yaml --dry-run",
)
MODEL_NOT_LEARNED = register(
    "model-did-not-learn",
    why="A model whose validation accuracy is not clearly above what always answering the most frequent "
    "class scores has learned nothing useful; n3 does not register it silently. The test: a one-sided "
    "exact binomial test of the validation rows predicted right against that rate, at p < 0.01.",
    fix="Use a learning rate on the base's scale (its default: `n3 models bases`), train longer, or check "
    "that the inputs say something about the targets; pass --allow-weak-model to register it anyway.",
    example="n3 train --config training.yaml --learning-rate 1.0      # text-base's default\n"
    "n3 train --config training.yaml --allow-weak-model      # register it anyway, with a warning",
)


def error(code: str, message: str, file: str = "<input>", span: Span = UNKNOWN, **kw) -> Diagnostic:
    """A training diagnostic (why/fix/example default to the registered texts)."""
    return make(code, message, span, file, **kw)


def fail(code: str, message: str, file: str = "<input>", span: Span = UNKNOWN, **kw) -> DiagnosticError:
    """A DiagnosticError carrying one training diagnostic (``raise fail(...)``)."""
    return DiagnosticError([error(code, message, file, span, **kw)])


def span_at(line: int, column: int = 1, end_column: int | None = None) -> Span:
    """A one-line span."""
    return Span(line, column, line, end_column if end_column is not None else column + 1)
