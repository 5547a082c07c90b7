"""The `n3` command group. Each command lives in its own module and is imported only when
run, so `n3 check` never pays for numpy.

Exit codes: 0 ok, 1 user error or failed check, 2 usage error, 3 internal error (a bug).
"""

from __future__ import annotations

import importlib
import sys

import click

from n3lang import __version__

# command name -> "module:attribute"
COMMANDS = {
    "check": "n3lang.cli.check_cmd:check",
    "fmt": "n3lang.cli.fmt_cmd:fmt",
    "reserved": "n3lang.cli.check_cmd:reserved",
    "run": "n3lang.cli.run_cmd:run",
    "train": "n3lang.cli.train_cmd:train",
    "models": "n3lang.cli.models_cmd:models",
    "predict": "n3lang.cli.predict_cmd:predict",
    "dataset": "n3lang.cli.dataset_cmd:dataset",
    "schema": "n3lang.cli.schema_cmd:schema",
    "lsp": "n3lang.cli.lsp_cmd:lsp",
    "init": "n3lang.cli.init_cmd:init",
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="n3")
def cli() -> None:
    """n3: check, run and train .ai applications.

    \b
    Exit codes: 0 ok, 1 the input has a problem (the message says which),
    2 the command line is wrong, 3 an internal error (please report it).
    """


EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM


def _terminated(signum, frame) -> None:
    """SIGTERM unwinds like Ctrl-C (SystemExit runs every cleanup: staging dirs, SQLite
    rollbacks) instead of killing the process where it stands."""
    raise SystemExit(EXIT_TERMINATED)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the group, turning any unexpected exception into exit 3,
    Ctrl-C into exit 130 with one line (click's standalone mode would print "Aborted!" and
    exit 1)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    try:
        code = cli.main(args=argv, prog_name="n3", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except SystemExit:
        raise
    except (KeyboardInterrupt, click.exceptions.Abort):
        # a run cut short writes nothing: training removes its staging files, `run` rolls back
        click.echo("n3: interrupted (Ctrl-C)", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:  # usage errors (exit 2) and the like, as click shows them
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:  # pragma: no cover - a bug by definition
        from n3lang.cli.common import escape_controls

        click.echo(escape_controls(f"n3: internal error: {type(exc).__name__}: {exc}"), err=True)
        click.echo("This is a bug in n3; please report it with the command you ran.", err=True)
        sys.exit(3)


if __name__ == "__main__":  # pragma: no cover
    main()
