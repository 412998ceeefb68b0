"""The `leadscore` command line: one subcommand per pipeline stage.

Every command turns a `LeadscoreError` into a one-paragraph message on stderr and the
error's exit code (2 bad input, 3 model/schema mismatch, 4 drift, 5 tracking), never a
traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from leadscore.pipeline.console import err as _err
from leadscore.pipeline.errors import LeadscoreError

app = typer.Typer(
    name="leadscore",
    help=(
        "Predictive lead scoring from CRM activity histories.\n\n"
        "Start with `leadscore demo`: it generates a synthetic B2B CRM, builds features, "
        "trains and calibrates a model, compares it with the points-table baseline and "
        "scores every open lead."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)



def _register_commands() -> None:
    """Attach each stage's command; each lives in its own module under pipeline/commands."""
    from leadscore.pipeline.commands import COMMANDS

    for name, function in COMMANDS:
        app.command(name)(function)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of exiting (for tests and the console script)."""
    _register_commands()
    try:
        app(args=argv, prog_name="leadscore")
    except LeadscoreError as exc:
        # the message quotes the user's data, which may hold rich markup such as "[/x]": printed as written
        _err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True, highlight=False, markup=True)
        return exc.exit_code
    except SystemExit as exc:  # click ends every run with SystemExit, usage errors with code 2
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 1
    return 0


@app.callback()
def _root() -> None:
    """Predictive lead scoring from CRM activity histories."""


def console_main() -> None:
    """Entry point of the `leadscore` console script."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    console_main()
