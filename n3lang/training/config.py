"""Training configuration: flags and/or training.yaml (or a `model` block) -> TrainingConfig.

Every problem is collected and reported at once as a Diagnostic naming the key, with the
file:line:col of the YAML node when the value came from a file. Flags override the file.
"""

from __future__ import annotations

import math
import re
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping

from n3lang import json_limits
from n3lang.diagnostics import COMMAND_LINE, Diagnostic, DiagnosticError
from n3lang.span import UNKNOWN, Span
from n3lang.training import errors
from n3lang.training.modes import MODES
from n3lang.words import closest

MAX_CONFIG_BYTES = 1 << 20
FLAGS_FILE = COMMAND_LINE

FIELDS = ("model_base", "dataset", "epochs", "learning_rate", "seed", "output_name", "mode",
          "validation_split", "output_dir", "report_dir", "allow_weak_model", "shards", "executor", "scheduler")
REQUIRED = ("model_base", "dataset", "output_name")
FLAG_OF = {k: "--" + k.replace("_", "-") for k in FIELDS}

EXAMPLES = {
    "model_base": "model_base: gpt-3.5-turbo",
    "dataset": "dataset: data/support_tickets.jsonl",
    "epochs": "epochs: 3",
    "learning_rate": "learning_rate: 1.0    # text-base's default; gpt-3.5-turbo and the other hosted bases take 2e-5",
    "seed": "seed: 13",
    "output_name": "output_name: supportbot.faq_model_v2",
    "mode": "mode: text",
    "validation_split": "validation_split: 0.2",
    "output_dir": "output_dir: build",
    "report_dir": "report_dir: docs/reports",
    "allow_weak_model": "allow_weak_model: true",
    "shards": "shards: 4",
    "executor": "executor: dask",
    "scheduler": "scheduler: tcp://127.0.0.1:8786",
}
EXECUTORS = ("local", "dask")
MAX_SHARDS = 4096
# Each base's default learning rate, for messages written before the base is known (a setting
# is checked on its own, and this module does not read the catalog: that needs PyYAML);
# tests/training/test_learning.py holds it to models/bases.yaml.
LEARNING_RATE_DEFAULTS = (("2.0", ("text-base",)), ("2e-5", ("gpt-3.5-turbo", "gpt-4", "gpt-4o-mini")),
                          ("0.01", ("vision-classifier", "speech-to-text")))


def _defaults_text() -> str:
    """``2.0 for text-base, 2e-5 for gpt-3.5-turbo, gpt-4 and gpt-4o-mini (the hosted
    fine-tuning scale), 0.01 for ...``."""
    parts = []
    for rate, names in LEARNING_RATE_DEFAULTS:
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        parts.append(f"{rate} for {listed}" + (" (the hosted fine-tuning scale)" if rate == "2e-5" else ""))
    return ", ".join(parts)

_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_INT = re.compile(r"^[-+]?\d+$")
_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


@dataclass
class TrainingConfig:
    """The resolved settings (None = not given: the base's default applies)."""

    model_base: str | None = None
    dataset: str | None = None
    epochs: int | None = None
    learning_rate: float | None = None
    seed: int | None = None
    output_name: str | None = None
    mode: str = "text"
    validation_split: float | None = None
    output_dir: str | None = None
    report_dir: str | None = None
    allow_weak_model: bool | None = None  # register a model that did not clearly learn (learning.py)
    # sharded training (shards.py): the shard count is part of the model's config; where the
    # tasks run (executor, scheduler) is not: it never changes the bytes
    shards: int | None = None
    executor: str | None = None
    scheduler: str | None = None
    # where each value came from: key -> (file, span)
    origins: dict = field(default_factory=dict, repr=False, compare=False)

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("origins")
        return d

    def where(self, key: str) -> tuple[str, Span]:
        return self.origins.get(key, (FLAGS_FILE, UNKNOWN))


def _err(code: str, message: str, file: str, span: Span, key: str | None = None, **kw) -> Diagnostic:
    if key and "example" not in kw:
        kw["example"] = EXAMPLES.get(key)
    return errors.error(code, message, file, span, **kw)


def _span(node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(s.line + 1, s.column + 1, e.line + 1, e.column + 1 if e.line == s.line else s.column + 2)


_MAX_DIGITS = 40  # longer whole numbers are far outside every setting's range


def _shown(number: int) -> str:
    """A whole number for a message: in full, or its size when it is absurdly long (str() of
    an int over 4300 digits raises)."""
    if abs(number) < 10 ** _MAX_DIGITS:
        return str(number)
    if number.bit_length() < 14000:  # under 4215 digits: str() is allowed
        return f"a number of {len(str(abs(number)))} digits"
    return f"a number of about {int(number.bit_length() * math.log10(2))} digits"


def read_config_file(path: Path, display: str | None = None) -> tuple[dict, dict]:
    """(values, origins) of a training.yaml; raises DiagnosticError for any problem with the file."""
    import yaml  # lazy: `n3 check` validates model blocks through this module without PyYAML

    from n3lang.yaml_safe import safe_compose_load

    display = display or str(path)
    try:
        info = path.stat()
    except (OSError, ValueError):
        raise errors.fail(errors.CONFIG_FILE, f"config file {display} does not exist or cannot be read", display,
                          fix="Check the path given to --config (relative to the current directory).")
    if not stat.S_ISREG(info.st_mode):  # a directory, a device or a pipe: never read it
        what = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise errors.fail(errors.CONFIG_FILE, f"config file {display} is {what}", display,
                          fix="Point --config at a training.yaml file.")
    size = info.st_size
    if size > MAX_CONFIG_BYTES:
        raise errors.fail(errors.CONFIG_FILE,
                          f"config file {display} is {size} bytes, larger than the {MAX_CONFIG_BYTES}-byte limit",
                          display, fix="A training config is a handful of `key: value` lines; point --config at it.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise errors.fail(errors.CONFIG_FILE, f"config file {display} is not UTF-8 (line {line}, byte {exc.start})",
                          display, errors.span_at(line))
    try:
        node, data = safe_compose_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        span = errors.span_at(mark.line + 1, mark.column + 1) if mark else UNKNOWN
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise errors.fail(errors.CONFIG_FILE, f"config file {display} is not valid YAML: {problem}", display, span)
    except json_limits.ERRORS as exc:  # an integer of over 4300 digits (Python's int() guard)
        problem, _ = json_limits.describe(exc, text)
        raise errors.fail(errors.CONFIG_FILE, f"config file {display} cannot be read: {problem}", display)
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        kind = "empty" if node is None else f"a YAML {_node_kind(node)}"
        span = _span(node) if node is not None else UNKNOWN
        raise errors.fail(errors.CONFIG_FILE,
                          f"config file {display} must be a mapping of settings (`key: value` lines), but it is {kind}",
                          display, span)
    values: dict = {}
    origins: dict = {}
    problems: list[Diagnostic] = []
    for key_node, value_node in node.value:
        key = key_node.value
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(_err(errors.CONFIG_UNKNOWN_KEY, "config keys must be plain names", display, _span(key_node)))
            continue
        if key in origins:
            problems.append(_err(errors.CONFIG_INVALID, f"key `{key}` is given twice", display, _span(key_node), key,
                                 fix=f"Keep one `{key}` line."))
            continue
        origins[key] = (display, _span(value_node))
        origins["@" + key] = (display, _span(key_node))
        values[key] = data.get(key)
    if problems:
        raise DiagnosticError(problems)
    return values, origins


def _node_kind(node) -> str:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return "list"
    if isinstance(node, yaml.ScalarNode):
        return "scalar"
    return "value"


class Expression:
    """A `model` block setting that is an expression, not a plain value (reported, never used)."""

    def __init__(self, kind: str):
        self.kind = kind


def _bad_type(value) -> str:
    if isinstance(value, Expression):
        return f"an expression ({value.kind}); a model setting takes a plain value: text, a number or true/false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def validate_output_name(name) -> str | None:
    """Why ``name`` is not a valid output_name, or None if it is."""
    if not isinstance(name, str) or not name:
        return "output_name must be a non-empty name"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"output_name {name!r} contains a control character"
    if "/" in name or "\\" in name:
        return f"output_name {name!r} contains a path separator ('/' or '\\'); it is a name, not a path"
    if ".." in name:
        return f"output_name {name!r} contains '..'; it is a name, not a path"
    if name.startswith("."):
        return f"output_name {name!r} starts with a dot"
    if len(name) > 128:
        return f"output_name is {len(name)} characters long (at most 128)"
    if not _NAME_OK.match(name):
        bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "._+-"))})
        return f"output_name {name!r} contains {', '.join(repr(c) for c in bad)}; use letters, digits, '.', '_', '-'"
    return None


def version_of(name: str) -> str:
    """Version inferred from the name's suffix: ``faq_model_v2`` -> ``2.0.0``, else ``1.0.0``."""
    m = re.search(r"(?:^|[._-])v(\d+)$", name)
    return f"{int(m.group(1))}.0.0" if m else "1.0.0"


SETTINGS = FIELDS  # every setting the code knows: training.yaml keys = model block keys = flags

UNKNOWN_SETTING, INVALID_SETTING, MISSING_SETTING = "unknown", "invalid", "missing"
_TEXT_KEYS = ("model_base", "dataset", "output_name", "output_dir", "report_dir", "mode", "executor", "scheduler")


@dataclass(frozen=True)
class SettingProblem:
    """One problem with one setting, not yet placed in a file.

    key: the setting (for an unknown key, the key as written); kind: "unknown", "invalid" or
    "missing"; code: the training diagnostic code; message: what happened, in the words
    `n3 train` prints; fix / example: None means the code's registered text;
    suggestion: for an unknown key, the closest known one (or None).
    """

    key: str
    kind: str
    code: str
    message: str
    fix: str | None = None
    example: str | None = None
    suggestion: str | None = None


def _invalid(key: str, message: str, fix: str | None = None, code: str = errors.CONFIG_INVALID,
             example: str | None = None) -> SettingProblem:
    if example is None and code == errors.CONFIG_INVALID:
        example = EXAMPLES.get(key)
    return SettingProblem(key, INVALID_SETTING, code, message, fix, example)


def check_setting(key: str, value) -> tuple[object, SettingProblem | None]:
    """(the value as TrainingConfig holds it, None) or (None, the problem): the one check of
    one setting's name, type and range, whatever it came from (flag, training.yaml, model block)."""
    if key not in FIELDS:
        near = closest(key, FIELDS)
        hint = f"; did you mean `{near}`?" if near else f"; valid keys: {', '.join(FIELDS)}"
        return None, SettingProblem(
            key, UNKNOWN_SETTING, errors.CONFIG_UNKNOWN_KEY, f"unknown key `{key}`{hint}",
            fix=(f"Rename `{key}` to `{near}`." if near else f"Remove `{key}`."),
            example=EXAMPLES.get(near) if near else None, suggestion=near)
    if value is None and key in ("output_dir", "report_dir"):
        return None, None
    if key in _TEXT_KEYS:
        if not isinstance(value, str) or not value.strip():
            return None, _invalid(key, f"`{key}` must be a non-empty string, got {_bad_type(value)}",
                                  f"Set `{key}` to a string.")
        value = value.strip()
        if "\0" in value:
            return None, _invalid(key, f"`{key}` contains a NUL character",
                                  f"Set `{key}` to a string without control characters.")
        if key == "mode" and value not in MODES:
            near = closest(value, MODES)
            hint = f" (did you mean {near!r}?)" if near else ""
            return None, _invalid(key, f"unknown mode {value!r}{hint}; `mode` must be one of: {', '.join(MODES)}",
                                  code=errors.MODE_UNSUPPORTED, example="mode: text")
        if key == "executor" and value not in EXECUTORS:
            return None, _invalid(key, f"unknown executor {value!r}; `executor` must be one of: {', '.join(EXECUTORS)}",
                                  "Set `executor` to local (train in this process) or dask (on the cluster named "
                                  "by `scheduler`).")
        if key == "scheduler" and not (value == "local" or re.match(r"^(tcp|tls|inproc|ucx)://\S+$", value)):
            return None, _invalid(key, f"`scheduler` must be a dask scheduler address such as tcp://HOST:PORT "
                                  f"(or local), got {value!r}",
                                  "Set `scheduler` to the address `dask scheduler` prints, or to local to start a "
                                  "cluster in this process.")
        if key == "output_name":
            why_bad = validate_output_name(value)
            if why_bad:
                return None, _invalid(key, why_bad, code=errors.OUTPUT_NAME_INVALID)
        return value, None
    if key == "allow_weak_model":
        if not isinstance(value, bool):
            return None, _invalid(key, f"`allow_weak_model` must be true or false, got {_bad_type(value)}",
                                  "Set `allow_weak_model` to true (register a model that did not clearly learn, "
                                  "with a warning) or false.")
        return value, None
    if key in ("epochs", "seed", "shards"):
        v = value
        if isinstance(v, str) and _INT.match(v.strip()) and len(v.strip()) <= _MAX_DIGITS:
            v = int(v.strip())
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, int) or isinstance(v, bool):
            return None, _invalid(key, f"`{key}` must be a whole number, got {_bad_type(value)}",
                                  f"Set `{key}` to a whole number.")
        if key == "epochs" and not (1 <= v <= 10000):
            return None, _invalid(key, f"`epochs` must be at least 1 (and at most 10000), got {_shown(v)}",
                                  "Set `epochs` to a positive whole number, e.g. 3.")
        if key == "shards" and not (1 <= v <= MAX_SHARDS):
            return None, _invalid(key, f"`shards` must be at least 1 (and at most {MAX_SHARDS}), got {_shown(v)}",
                                  "Set `shards` to a positive whole number, e.g. 4 (1 trains in one pass, as when "
                                  "it is left out).")
        if key == "seed" and not (0 <= v < 2**32):
            return None, _invalid(key, f"`seed` must be between 0 and 4294967295, got {_shown(v)}",
                                  "Set `seed` to a non-negative whole number, e.g. 13.")
        return v, None
    # learning_rate, validation_split
    v = value
    if isinstance(v, str) and _NUMBER.match(v.strip()):
        v = float(v.strip())
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 1e300:  # float() would overflow
        v = math.inf
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        return None, _invalid(key, f"`{key}` must be a number, got {_bad_type(value)}", f"Set `{key}` to a number.")
    v = float(v)
    if key == "learning_rate" and not v > 0:
        return None, _invalid(key, f"`learning_rate` must be greater than 0, got {v:g}",
                              f"Set `learning_rate` to a positive number on the base's scale, or leave it out to "
                              f"use the base's default: {_defaults_text()}.")
    if key == "validation_split" and not (0 <= v < 1):
        return None, _invalid(key, f"`validation_split` must be at least 0 and less than 1, got {v:g}",
                              "Set `validation_split` to a fraction such as 0.2, or to 0 to train on every row "
                              "(then nothing is held out to measure the model).")
    return v, None


def validate_settings(values: Mapping[str, object]) -> list[SettingProblem]:
    """Every problem of a mapping of settings (a model block's or a training.yaml's), in the
    mapping's order, then one "missing" problem per required setting that is absent. This is
    the interface the checker uses; `n3 train` reaches the same checks through ``coerce``."""
    problems = [p for key, value in values.items() for p in [check_setting(key, value)[1]] if p is not None]
    problems += [SettingProblem(key, MISSING_SETTING, errors.CONFIG_MISSING, f"missing required setting `{key}`")
                 for key in REQUIRED if key not in values]
    return problems


def coerce(values: dict, origins: dict) -> tuple[TrainingConfig, list[Diagnostic]]:
    """Check keys, types and ranges of ``values`` (from any source); every problem at once."""
    cfg = TrainingConfig(origins=dict(origins))
    problems: list[Diagnostic] = []
    for key, value in values.items():
        checked, problem = check_setting(key, value)
        if problem is None:
            if checked is not None:
                setattr(cfg, key, checked)
            continue
        file, span = origins.get(key, (FLAGS_FILE, UNKNOWN))
        if problem.kind == UNKNOWN_SETTING:
            file, span = origins.get("@" + key, (file, span))
        problems.append(errors.error(problem.code, problem.message, file, span,
                                     fix=problem.fix, example=problem.example))
    return cfg, problems


def missing_required(cfg: TrainingConfig, config_file: str | None, given=()) -> list[Diagnostic]:
    """A diagnostic per required setting that is still missing (not merely invalid)."""
    out = []
    for key in REQUIRED:
        if getattr(cfg, key) is None and key not in given:
            where = f" or `{key}:` in {config_file}" if config_file else f" or `{key}:` in a --config file"
            out.append(_err(errors.CONFIG_MISSING,
                            f"missing required setting `{key}`: pass {FLAG_OF[key]}{where}",
                            config_file or FLAGS_FILE, UNKNOWN, None,
                            fix=f"Add {FLAG_OF[key]} VALUE to the command, or `{key}: VALUE` to the config file."))
    return out


def load(flags: dict, config_path: Path | None = None, config_display: str | None = None) -> TrainingConfig:
    """Merge a config file (if any) and flags (which win); raise DiagnosticError on any problem."""
    values: dict = {}
    origins: dict = {}
    display = None
    if config_path is not None:
        display = config_display or str(config_path)
        values, origins = read_config_file(config_path, display)
    for key, value in flags.items():
        if value is not None:
            values[key] = value
            origins[key] = (FLAGS_FILE, UNKNOWN)
            origins.pop("@" + key, None)
    cfg, problems = coerce(values, origins)
    problems += missing_required(cfg, display, set(values))
    if problems:
        raise DiagnosticError(problems)
    return cfg
