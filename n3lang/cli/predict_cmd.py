"""`n3 predict NAME[@VERSION] INPUT...` and batch `--dataset rows.jsonl`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from n3lang import json_limits, surrogates
from n3lang.cli.common import echo, fail, json_option, json_text, print_json, status
from n3lang.diagnostics import DiagnosticError

# The rows of `n3 predict --dataset --json` name the predicted class `label`, as the output for
# one input does; until the next release they also carry it as `prediction`, its old name.
PREDICTION_ALIAS = True


@click.command()
@click.argument("ref", metavar="NAME[@VERSION]")
@click.argument("inputs", nargs=-1, metavar="INPUT...")
@click.option("--dataset", "dataset", metavar="FILE", help="JSONL rows to predict (one JSON line out per row).")
@json_option
def predict(ref: str, inputs: tuple, dataset: str | None, as_json: bool) -> None:
    """Predict with a registered model: text for text models, file paths for image/audio.

    \b
    n3 predict supportbot.faq_model_v2 "I forgot my password"
    n3 predict supportbot.faq_model_v2 --dataset data/test.jsonl --json
    The predicted class is `label` in every output (one input or a file of rows; a file's rows
    also carry `prediction`, the same value, for one release). With --dataset, rows carrying a
    target also get accuracy and macro-F1, on stderr after the last row.
    """
    from n3lang.cli.common import project_dir
    from n3lang.training import errors
    from n3lang.training.inference import load_predictor

    try:
        proj = project_dir()
        predictor = load_predictor(proj, ref)
        if dataset is None and not inputs:
            raise errors.fail(errors.PREDICT_INPUT, "nothing to predict: give an INPUT or --dataset FILE")
        if dataset is not None:
            _batch(predictor, Path(dataset), as_json)
            return
        for number, x in enumerate(inputs, 1):
            char = surrogates.find(x)
            if char is not None:  # bytes on the command line that are not UTF-8
                raise errors.fail(errors.PREDICT_INPUT, f"INPUT {number} is not UTF-8 text: {surrogates.describe(char)}",
                                  "<command line>", fix="Pass the input as UTF-8 text.")
        results = [{"input": x, **predictor.predict(x)} for x in inputs]
    except DiagnosticError as exc:
        fail(exc.diagnostics, as_json)
    if as_json:
        print_json(results[0] if len(results) == 1 else results)
    else:
        for r in results:
            echo(f"{r['label']}\t{r['confidence']:.3f}" + (f"\t{r['input']}" if len(results) > 1 else ""))


def _batch(predictor, path: Path, as_json: bool) -> None:
    from n3lang.training import errors, metrics
    from n3lang.training.dataset import TARGET_FIELDS, DuplicateKey, duplicate_column, loads_row, max_line_bytes

    base = path.parent
    predictor.base_dir = base
    y_true, y_pred = [], []
    problems = []
    field = predictor.handler.input_fields
    line_limit = max_line_bytes()
    for lineno, line in enumerate(_read_lines(path), 1):
        if not line.strip():
            continue
        if len(line) > line_limit // 4 and len(line.encode("utf-8", "surrogatepass")) > line_limit:
            problems.append(errors.error(errors.DATASET_TOO_LARGE, f"line {lineno} is longer than the {line_limit}-byte "
                                         "limit of one dataset line", str(path), errors.span_at(lineno),
                                         fix="Keep each row short, or raise the limit with N3_MAX_LINE_BYTES=<bytes>."))
            continue
        try:
            row = loads_row(line)
        except DuplicateKey as exc:
            problems.append(errors.error(errors.DATASET_ROW, f"the row names {json.dumps(exc.key, ensure_ascii=False)} "
                                         "twice; a key may appear once in an object", str(path),
                                         errors.span_at(lineno, duplicate_column(line, exc.key))))
            continue
        except json.JSONDecodeError as exc:
            problems.append(errors.error(errors.DATASET_ROW, f"line is not valid JSON: {exc.msg}", str(path),
                                         errors.span_at(lineno, exc.colno)))
            continue
        except json_limits.ERRORS as exc:
            message, column = json_limits.describe(exc, line)
            problems.append(errors.error(errors.DATASET_ROW, f"line is not valid JSON: {message}", str(path),
                                         errors.span_at(lineno, column)))
            continue
        char = surrogates.find(row)
        if char is not None:
            problems.append(errors.error(errors.DATASET_ROW, surrogates.describe(char), str(path),
                                         errors.span_at(lineno, surrogates.locate(line, char)[1]), fix=surrogates.FIX))
            continue
        key = next((k for k in field if isinstance(row, dict) and k in row), None)
        if key is None:
            problems.append(errors.error(errors.DATASET_ROW, f'row has no "{field[0]}" field', str(path),
                                         errors.span_at(lineno)))
            continue
        try:
            out = predictor.predict(row[key])
        except DiagnosticError as exc:  # this row's input: report it at its line, go on with the rest
            d = exc.diagnostics[0]
            problems.append(errors.error(d.code, d.message, str(path), errors.span_at(lineno, line.find(f'"{key}"') + 1),
                                         fix=d.fix))
            continue
        # `label`, as for one input; `prediction` is its old name, kept for one release (PREDICTION_ALIAS)
        rec = {"line": lineno, "label": out["label"], "confidence": out["confidence"]}
        if PREDICTION_ALIAS:
            rec["prediction"] = out["label"]
        tkey = next((k for k in TARGET_FIELDS if k in row), None)
        if tkey is not None:
            rec["target"] = str(row[tkey]).strip()
            y_true.append(rec["target"])
            y_pred.append(out["label"])
        if as_json:
            click.echo(json_text(json.dumps(rec, sort_keys=True, ensure_ascii=False)))
        else:
            echo(f"{lineno}\t{out['label']}\t{out['confidence']:.3f}")
    if problems:
        raise DiagnosticError(problems)
    if y_true:  # a line for people, on stderr: stdout holds one line per row and nothing else
        m = metrics.classification_metrics(y_true, y_pred, predictor.labels)
        status(f"accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f} over {len(y_true)} rows with a target")


def _read_lines(path: Path) -> list[str]:
    """The file's lines, or a diagnostic naming the line and column of the first byte that is
    not UTF-8."""
    from n3lang.training import errors, files
    from n3lang.training.dataset import max_dataset_bytes

    limit = max_dataset_bytes()
    try:
        raw = files.read_limited(path, limit)
    except FileNotFoundError:
        raise errors.fail(errors.DATASET_MISSING, f"dataset {path} does not exist", str(path))
    except files.NotRegularFile as exc:
        raise errors.fail(errors.DATASET_MISSING, f"dataset {path} {exc.strerror}", str(path),
                          why="Rows to predict are read from a JSONL file: never from a device, a pipe or a "
                              "directory, which could block or never end.",
                          fix="Point --dataset at a .jsonl file.")
    except files.TooLarge as exc:
        raise errors.fail(errors.DATASET_MISSING, f"dataset {path} is {exc.size} bytes, over the {limit}-byte limit",
                          str(path), why="Datasets are read within a size limit so that memory stays bounded.",
                          fix="Split the file, or raise the limit with N3_MAX_DATASET_BYTES=<bytes>.")
    except OSError as exc:
        raise errors.fail(errors.DATASET_MISSING, f"cannot read {path}: {exc.strerror or exc}", str(path))
    try:
        return raw.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        raise errors.fail(errors.DATASET_ENCODING, f"line {line} is not valid UTF-8: byte 0x{raw[exc.start]:02x}",
                          str(path), errors.span_at(line, column))
