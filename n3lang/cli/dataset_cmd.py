"""`n3 dataset`: dataset utilities. `n3 dataset convert` turns a state export into JSONL."""

from __future__ import annotations

import click

from n3lang.cli.common import fail, json_option, print_json, status


@click.group()
def dataset() -> None:
    """Dataset utilities for training."""


@dataset.command()
@click.option("--input", "input_path", required=True, metavar="FILE",
              help="State export: a JSON list of objects, or an object with a `records` or `rows` list.")
@click.option("--output", "output_path", required=True, metavar="FILE",
              help="Training dataset to write (JSONL with `input` and `target`).")
@click.option("--input-field", metavar="FIELD", help="Record field holding the input text (default: found by name).")
@click.option("--target-field", metavar="FIELD", help="Record field holding the target (default: found by name).")
@json_option
def convert(input_path: str, output_path: str, input_field: str | None, target_field: str | None,
            as_json: bool) -> None:
    """Convert a state export to a training dataset (JSONL).

    \b
    Example:
      n3 dataset convert --input data/state_records.json --output data/support_tickets.jsonl
    """
    from n3lang.diagnostics import DiagnosticError
    from n3lang.training.convert import convert_state_export, summary

    try:
        result = convert_state_export(input_path, output_path, input_field=input_field, target_field=target_field)
    except DiagnosticError as err:
        fail(err.diagnostics, as_json)
    if as_json:
        print_json(result.to_json())
    else:
        status(summary(result))
