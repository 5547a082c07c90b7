"""`n3 train`: train a model from flags, a config file, or the app's `model` blocks."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from n3lang.cli.common import EXIT_OK, EXIT_USER_ERROR, echo, fail, json_option, print_json, status
from n3lang.diagnostics import DiagnosticError

FLAG_KEYS = ("model_base", "dataset", "epochs", "learning_rate", "seed", "output_name", "mode",
             "validation_split", "output_dir", "report_dir", "allow_weak_model", "shards", "executor", "scheduler")


def sources_for(diagnostics, dirs) -> dict[str, str]:
    """Source text of each file named by a diagnostic, looked up in ``dirs`` (for carets)."""
    out: dict[str, str] = {}
    for d in diagnostics:
        if d.file in out or d.file.startswith("<"):
            continue
        for base in dirs:
            p = Path(d.file) if Path(d.file).is_absolute() else Path(base) / d.file
            try:
                if p.is_file() and p.stat().st_size < (8 << 20):
                    out[d.file] = p.read_text(encoding="utf-8", errors="replace")
                    break
            except OSError:
                pass
    return out


class ProgressBar:
    """A one-line progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, label: str, rows_per_epoch: int = 0):
        self.label = label
        self.rows_per_epoch = rows_per_epoch
        self.start = time.perf_counter()
        self.rows = 0
        self.last_epoch = 0
        self.last_draw = 0.0

    def __call__(self, epoch: int, epochs: int, rows_done: int, loss: float) -> None:
        now = time.perf_counter()
        if epoch != self.last_epoch:
            self.last_epoch = epoch
            self.epoch_start = now
        if now - self.last_draw < 0.1:
            return
        self.last_draw = now
        rate = rows_done / max(now - self.epoch_start, 1e-9)
        width = 24
        within = min(1.0, rows_done / self.rows_per_epoch) if self.rows_per_epoch else 0.0
        frac = min(1.0, ((epoch - 1) + within) / max(epochs, 1))
        filled = int(width * frac)
        sys.stderr.write(f"\r{self.label} epoch {epoch}/{epochs} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{rows_done} rows {rate:,.0f} rows/s loss {loss:.4f}   ")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


def _human_result(r: dict) -> str:
    m = r["metrics"]
    lines = [f"Trained {r['name']} {r['version']} ({r['model_kind']}, base {r['base_model']}, mode {r['mode']})"]
    acc = m.get("accuracy")
    if acc is not None:
        ece = f"; calibration error (ECE) {m['ece']:.3f}" if m.get("ece") is not None else ""
        lines.append(f"  accuracy {acc:.3f}, macro-F1 {m.get('macro_f1', 0):.3f} on {m['n_validation']} validation rows "
                     f"(majority baseline {m.get('majority_baseline') or 0:.3f}){ece}; {m['n_train']} training rows")
    else:
        lines.append(f"  trained on all {m['n_train']} rows; no validation rows, so nothing was measured")
    lines += [f"  warning: {w}" for w in r.get("warnings") or []]
    p = r["paths"]
    lines += [f"  model:    {p['model']}", f"  metadata: {p['metadata']}", f"  registry: {p['registry']}",
              f"  reports:  {p['metrics_report']}", f"            {p['explain_report']}",
              f"            {p['html_report']}"]
    return "\n".join(lines)


def _human_plan(s: dict) -> str:
    from n3lang.training.selection import MAX_EPOCHS  # here: `n3 train --help` loads no numpy

    eff = s["config"]["effective"]
    classes = ", ".join(f"{k} ({v})" for k, v in list(s["class_counts"].items())[:20])
    more = "" if len(s["class_counts"]) <= 20 else f", ... ({len(s['class_counts'])} in all)"
    p = s["paths"]
    return "\n".join([
        f"Plan for {s['name']} {s['version']} (dry run: nothing written)",
        f"  base {s['base_model']}, mode {s['mode']}; "
        + (f"epochs chosen on the validation rows (1-{MAX_EPOCHS})" if s.get("epochs_chosen_on_validation")
           else f"epochs {eff['epochs']}") + ", learning rate "
        f"{eff['requested_learning_rate']:g} (local step {eff['learning_rate']:g}), seed {eff['seed']}",
        f"  dataset {s['dataset']}: {s['rows']} rows -> {s['train_rows']} training, "
        f"{s['validation_rows']} validation (validation_split {eff['validation_split']:g}"
        + ("; every row trains and nothing is measured)" if not s["validation_rows"] else ")"),
        f"  classes: {classes}{more}",
        f"  would write: {p['model']}, {p['metadata']}, {p['registry']},",
        f"               {p['metrics_report']}, {p['explain_report']}, {p['html_report']}",
    ])


@click.command()
@click.argument("app", required=False, metavar="[APP.ai]")
@click.option("--config", "config_file", metavar="FILE", help="training.yaml with the settings (flags override it).")
@click.option("--model-base", metavar="BASE", help="Base model (see `n3 models bases`), e.g. gpt-3.5-turbo or text-base.")
@click.option("--dataset", metavar="FILE", help="JSONL dataset (one JSON object per line), relative to the app's directory.")
@click.option("--epochs", metavar="N", help="Passes over the training rows (default: the base's).")
@click.option("--learning-rate", metavar="RATE", help="Step size on the base's scale (default: the base's): text-base "
              "takes it as is (1.0); hosted bases read it on the fine-tuning scale (2e-5).")
@click.option("--seed", metavar="N", help="Seed of the split and of training (an integer).")
@click.option("--output-name", metavar="NAME", help="Registry name of the model, e.g. supportbot.faq_model_v2.")
@click.option("--mode", metavar="MODE", help="text, image or audio (default text).")
@click.option("--validation-split", metavar="FRACTION", help="Fraction of rows held out for validation (default 0.2; "
              "0 trains on every row and measures nothing).")
@click.option("--output-dir", metavar="DIR", help="Where model directories go, inside the app's folder (default models/).")
@click.option("--report-dir", metavar="DIR", help="Where the metrics, explain and HTML reports go (default docs/reports/).")
@click.option("--allow-weak-model", is_flag=True, default=None,
              help="Register the model even if it is not clearly better than always answering the most frequent "
              "class (the metadata and reports then carry a warning).")
@click.option("--shards", metavar="K", help="Text mode: train on K logical shards of the rows, combined in shard "
              "order (default 1; part of the model's config).")
@click.option("--executor", metavar="local|dask", help="Where the shards' tasks run (default local; never changes "
              "the bytes).")
@click.option("--scheduler", metavar="ADDRESS", help="With --executor dask: the scheduler, tcp://HOST:PORT (default "
              "$N3_DASK_SCHEDULER), or local to start a LocalCluster.")
@click.option("--allow-outside-project", is_flag=True,
              help="Let output_dir / report_dir point outside the project directory.")
@json_option
@click.option("--dry-run", is_flag=True, help="Validate and print the plan; write nothing.")
@click.option("--verify", "verify_ref", metavar="NAME[@VERSION]",
              help="Retrain a registered model in a temporary directory and compare every sha256.")
@click.option("--model", "model_name", metavar="NAME", help="Train only this `model` block of the app.")
def train(app, config_file, as_json, dry_run, verify_ref, model_name, allow_outside_project, **flags) -> None:
    """Train a model locally and register it (needs the `training` capability).

    \b
    n3 train --model-base gpt-3.5-turbo --dataset data/support_tickets.jsonl \\
      --epochs 3 --learning-rate 2e-5 --seed 13 --output-name supportbot.faq_model_v2
    n3 train --config training.yaml
    n3 train                      # every `model` block of app.ai not yet registered
    """
    cwd = Path.cwd()
    dirs = [cwd]
    try:
        from n3lang.syntax.loader import load_project
        from n3lang.training import app as app_mod

        def parse_app(path: Path):
            """The app with the files it includes or uses (§9): model blocks there count too."""
            loaded = load_project(path)
            return loaded.program, loaded.diagnostics, loaded.sources.get(str(path), "")

        info = app_mod.resolve_app(app, cwd, parse_app)
        project = info.project_dir
        dirs = [project, cwd]
        if verify_ref:
            _verify(project, verify_ref, as_json)
            return
        from n3lang.training import config as config_mod
        from n3lang.training import registry, trainer

        flag_values = {k: flags.get(k) for k in FLAG_KEYS}
        jobs = []  # (cfg)
        up_to_date = []
        if config_file or any(v is not None for v in flag_values.values()) or not info.models:
            path = None
            if config_file:
                path = Path(config_file)
                if not path.is_absolute() and not (cwd / path).exists() and (project / path).exists():
                    path = project / path
                elif not path.is_absolute():
                    path = cwd / path
            jobs.append(config_mod.load(flag_values, path, config_file))
        else:
            entries = registry.read_entries(project)
            found = False
            problems = []
            for name, values, origins in trainer.configs_from_app(info):
                if model_name and name != model_name:
                    continue
                found = True
                if registry.find(entries, name) is not None:
                    up_to_date.append(name)
                    continue
                cfg, probs = config_mod.coerce(values, origins)
                probs += config_mod.missing_required(cfg, info.display, set(values))
                problems += probs
                jobs.append(cfg)
            if problems:
                raise DiagnosticError(problems)
            if model_name and not found:
                from n3lang.training import errors

                names = ", ".join(d.name for d in info.models)
                raise errors.fail(errors.CONFIG_MISSING, f"{info.display} has no model block named {model_name!r}; "
                                  f"its models: {names}", info.display)
        plans = [trainer.prepare(project, cfg, allow_outside_project=allow_outside_project) for cfg in jobs]
        if dry_run:
            summaries = [p.summary() for p in plans]
            if as_json:
                print_json({"ok": True, "dry_run": True, "plans": summaries, "up_to_date": up_to_date})
            else:
                for s in summaries:
                    echo(_human_plan(s))
                for n in up_to_date:
                    echo(f"{n}: up to date (already registered)")
            return
        results = []
        for plan in plans:
            bar = None
            if not as_json and sys.stderr.isatty():
                bar = ProgressBar(plan.name, plan.summary()["train_rows"])
            status(f"Training {plan.name} {plan.version} (base {plan.base.name}, mode {plan.cfg.mode}, "
                   f"{len(plan.data)} rows)...")
            try:
                results.append(trainer.train(plan, progress=bar))
            finally:
                if bar is not None:
                    bar.done()
        for n in up_to_date:
            status(f"{n}: up to date (already registered)")
        if as_json:
            print_json({"ok": True, "trained": [_json_result(r) for r in results], "up_to_date": up_to_date})
        else:
            for r in results:
                echo(_human_result(r))
            if not results and up_to_date:
                echo("Nothing to train: every model is up to date.")
    except DiagnosticError as exc:
        fail(exc.diagnostics, as_json, sources_for(exc.diagnostics, dirs))


def _json_result(r: dict) -> dict:
    out = {k: v for k, v in r.items() if k not in ("class_counts",)}
    return out


def _verify(project: Path, ref: str, as_json: bool) -> None:
    from n3lang.training import trainer

    status(f"Retraining {ref} from its registry record in a temporary directory...")
    result = trainer.verify_retrain(project, ref)
    if as_json:
        print_json(result)
    else:
        for c in result["checks"]:
            mark = "ok      " if c["match"] else "MISMATCH"
            echo(f"{mark} {c['file']}: {c['actual']}" + ("" if c["match"] else f" (expected {c['expected']})"))
        echo(f"{result['name']}@{result['version']}: " + ("reproduced: every sha256 matches" if result["ok"]
                                                                else "NOT reproduced"))
    sys.exit(EXIT_OK if result["ok"] else EXIT_USER_ERROR)
