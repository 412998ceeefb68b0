"""The `leadscore` command line: one subcommand per pipeline stage.

Every command turns a `LeadscoreError` into a one-paragraph message on stderr and the exit
code `EXIT_CODES` gives its class (2 bad input, 3 model/schema mismatch, 4 drift, 5 tracking,
1 any other), never a traceback. The lower layers raise errors without knowing of exit codes.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from leadscore.pipeline.console import err as _err
from leadscore.pipeline.errors import BadInputError, DriftError, LeadscoreError, SchemaMismatchError, TrackingError

EXIT_CODES: dict[type[LeadscoreError], int] = {BadInputError: 2, SchemaMismatchError: 3, DriftError: 4, TrackingError: 5}
"""The exit code of each error class (and its subclasses) as the README documents them; other errors exit 1."""

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
        if isinstance(function, typer.Typer):  # a command with sub-commands of its own (`rules --check`, `rules fit`)
            app.add_typer(function, name=name)
        else:
            app.command(name)(function)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of exiting (for tests and the console script)."""
    _register_commands()
    try:
        app(args=argv, prog_name="leadscore")
    except LeadscoreError as exc:
        if getattr(exc, "logged", False):  # a --log-format json run wrote it as its last event
            return exit_code_of(exc)
        # the message quotes the user's data, which may hold rich markup such as "[/x]": printed as written
        _err.print(f"[bold red]error:[/] {escape(printable(str(exc)))}", soft_wrap=True, highlight=False, markup=True)
        return exit_code_of(exc)
    except SystemExit as exc:  # click ends every run with SystemExit, usage errors with code 2
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def printable(text: str) -> str:
    r"""Return `text` with control characters shown as escapes, so data quoted in a message cannot drive the terminal.

    A lead id holding ESC [2J would otherwise clear the operator's screen, or colour a log.
    Line breaks stay: a message may be several lines.

    >>> printable("lead \x1b[2Jx\tok")
    'lead \\x1b[2Jx\\tok'
    """
    return "".join(ch if ch == "\n" or (ord(ch) >= 32 and ord(ch) != 127) else repr(ch)[1:-1] for ch in text)


def exit_code_of(error: LeadscoreError) -> int:
    """Return the exit code of `error`: that of the nearest class in `EXIT_CODES` it derives from, else 1."""
    return next((EXIT_CODES[cls] for cls in type(error).__mro__ if cls in EXIT_CODES), 1)


@app.callback()
def _root() -> None:
    """Predictive lead scoring from CRM activity histories."""


def console_main() -> None:
    """Entry point of the `leadscore` console script."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    console_main()
