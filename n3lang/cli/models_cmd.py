"""`n3 models list|show|verify|bases`: the model registry and the base catalog."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from n3lang.cli.common import EXIT_USER_ERROR, echo, fail, json_option, print_json, project_dir
from n3lang.diagnostics import DiagnosticError


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    return "\n".join(fmt.format(*[str(c) for c in r]).rstrip() for r in [header, *rows])


def _public(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if not k.startswith("_")}


@click.group()
def models() -> None:
    """Registered models (models_registry.yaml) and the catalog of bases."""


@models.command("list")
@json_option
def list_models(as_json: bool) -> None:
    """Every registered model, in registry order."""
    from n3lang.training import registry

    try:
        entries = registry.read_entries(project_dir())
    except DiagnosticError as exc:
        fail(exc.diagnostics, as_json)
    if as_json:
        print_json({"models": [_public(e) for e in entries]})
        return
    if not entries:
        echo("No models registered yet (train one with `n3 train`).")
        return
    rows = [[e["name"], e["version"], e["base_model"], e["domain"], e["status"],
             _accuracy(e), e["created_at"]] for e in entries]
    echo(_table(rows, ["NAME", "VERSION", "BASE", "MODE", "STATUS", "ACCURACY", "CREATED"]))


def _accuracy(entry: dict) -> str:
    """The validation accuracy, or "-" for a model trained without validation rows."""
    value = (entry.get("metrics") or {}).get("accuracy")
    return f"{value:.3f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"


@models.command("show")
@click.argument("ref", metavar="NAME[@VERSION]")
@json_option
def show(ref: str, as_json: bool) -> None:
    """One registered model: its registry entry and metadata."""
    from n3lang.training.inference import find_entry

    proj = project_dir()
    try:
        entry = find_entry(proj, ref)
    except DiagnosticError as exc:
        fail(exc.diagnostics, as_json)
    meta = _metadata(proj, entry, as_json)
    if as_json:
        print_json({"entry": _public(entry), "metadata": meta})
        return
    for k, v in _public(entry).items():
        echo(f"{k}: {json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v}")
    if meta:
        labels = meta.get("labels", [])
        echo(f"model_kind: {meta.get('model_kind')}")
        echo(f"labels ({len(labels)}): {', '.join(labels[:20])}{' ...' if len(labels) > 20 else ''}")


def _metadata(proj: Path, entry: dict, as_json: bool) -> dict | None:
    """The model's metadata.json (None when the file is missing or unreadable); malformed
    content is a model-corrupted error."""
    from n3lang.training import errors, registry
    from n3lang.training.inference import metadata_problem

    rel = (Path(entry["artifact_uri"]).parent / "metadata.json").as_posix()
    label = f"{entry['name']}@{entry['version']}"
    from n3lang.training.files import read_limited
    from n3lang.training.inference import MAX_METADATA_BYTES

    try:
        raw = read_limited(proj / rel, MAX_METADATA_BYTES)
    except OSError:  # missing, not a regular file, too large: shown without metadata
        return None
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        problem: str | None = f"is not valid JSON ({exc})"
    else:
        problem = metadata_problem(meta)
    if problem is not None:
        fail(errors.fail(errors.MODEL_CORRUPTED, f"model {label}: {rel} {problem}",
                         registry.REGISTRY_FILE).diagnostics, as_json)
    return meta


@models.command("verify")
@click.argument("ref", metavar="NAME[@VERSION]")
@json_option
def verify(ref: str, as_json: bool) -> None:
    """Recompute the model's sha256 against the registry and check the hash chain."""
    from n3lang.training.inference import verify_entry

    try:
        result = verify_entry(project_dir(), ref)
    except DiagnosticError as exc:
        fail(exc.diagnostics, as_json)
    if as_json:
        print_json(result)
    else:
        echo("registry hash chain: ok")
        for c in result["checks"]:
            if c["match"]:
                echo(f"ok       {c['file']}: sha256 {c['actual']}")
            else:
                echo(f"MISMATCH {c['file']}: sha256 {c['actual'] or '(missing file)'}, "
                           f"registry says {c['expected']}")
        echo(f"{result['name']}@{result['version']}: " + ("verified" if result["ok"] else "CORRUPTED"))
    if not result["ok"]:
        sys.exit(EXIT_USER_ERROR)


@models.command("deprecate")
@click.argument("ref", metavar="NAME@VERSION")
@click.option("--reason", metavar="TEXT", help="Why (shown by `n3 models show`, `n3 check` and the run error).")
@json_option
def deprecate(ref: str, reason: str | None, as_json: bool) -> None:
    """Mark a registered model version as deprecated.

    \b
    Appends a status event to models_registry.yaml (earlier bytes are never rewritten; the
    event joins the hash chain), under the same lock as `n3 train`:
      - event: "status"
        name: "NAME"
        version: "VERSION"
        status: "deprecated"
        reason: "TEXT"
        created_at: "..."        (1970-01-01T00:00:00Z unless N3_TRAIN_CREATED_AT is set)
        previous_sha256: "..."
    Readers fold events into the model entries, so the latest status wins: `predict` and
    `ask ai` then fail with model-deprecated, `n3 check` warns, `n3 models list` shows it.
    (Editing `status` of the model's own entry in place still works too: that field is left
    out of the entry's hash.) Without @VERSION the latest version of NAME is deprecated.
    """
    _set_status(ref, "deprecated", reason, as_json)


@models.command("activate")
@click.argument("ref", metavar="NAME@VERSION")
@click.option("--reason", metavar="TEXT", help="Why (shown by `n3 models show`).")
@json_option
def activate(ref: str, reason: str | None, as_json: bool) -> None:
    """Make a deprecated model version active again.

    \b
    Undoes `n3 models deprecate` the same way it was done: it appends a status event with
    status "active". Earlier bytes of models_registry.yaml are never rewritten, and the latest
    event wins. Without @VERSION the latest version of NAME is activated.
    """
    _set_status(ref, "active", reason, as_json)


def _set_status(ref: str, status: str, reason: str | None, as_json: bool) -> None:
    """Append a status event for ref (nothing when the model already has that status)."""
    from n3lang import surrogates
    from n3lang.training import errors, registry
    from n3lang.training.trainer import created_at_value

    name, version = registry.parse_ref(ref)
    try:
        char = surrogates.find(reason) if reason else None  # bytes on the command line that are not UTF-8
        if char is not None:
            raise errors.fail(errors.CONFIG_INVALID, f"--reason is not UTF-8 text: {surrogates.describe(char)}",
                              "<command line>", fix="Pass the reason as UTF-8 text.")
        entry, event = registry.set_status(project_dir(), name, version, status, reason=reason,
                                           created_at=created_at_value())
    except DiagnosticError as exc:
        fail(exc.diagnostics, as_json)
    label = f"{entry['name']}@{entry['version']}"
    word = {"deprecated": "deprecated", "active": "activated"}[status]
    if as_json:
        print_json({"ok": True, "model": label, "status": status, "changed": event is not None,
                    "event": None if event is None else _public(event)})
        return
    if event is None:
        echo(f"{label} is already {status}; nothing appended.")
    else:
        echo(f"{label} {word}" + (f" ({reason})" if reason else "")
                   + f"; status event appended to {registry.REGISTRY_FILE}.")


@models.command("bases")
@json_option
def bases_cmd(as_json: bool) -> None:
    """The model bases `n3 train` knows, with their mode and whether they train locally."""
    from n3lang.training import bases

    cat = bases.catalog()
    if as_json:
        print_json({"bases": [b.to_json() for b in cat]})
        return
    rows = [[b.name, b.mode, b.trainer or "-", "yes" if b.trainable else "no", f"{b.lr_scale:g}",
             b.description[:70] + ("..." if len(b.description) > 70 else "")] for b in cat]
    echo(_table(rows, ["NAME", "MODE", "TRAINER", "LOCAL", "LR_SCALE", "DESCRIPTION"]))
