"""The `custos` console script: error handling in one place, and a lean path for scan-model.

Errors are handled once, here: a `UserError` prints its message and exits 2, any other
`CustosError` exits 3, and an unexpected exception prints "internal error" (with the traceback
only under `--debug`) and exits 3. A usage error, typer's or argparse's, is one line on stderr
and exit 2, never a usage box ("error: invalid value for --format: 'x' is not one of the
choices; valid: a, b"). Exit codes: 0 ok, 1 findings or a failed gate, 2 bad input or
usage, 3 operational or internal error.

`custos scan-model`, `custos scan-data`, `custos data-integrity`, `custos probe`,
`custos scan-gateway`, `custos scan-repo`, `custos sign`,
`custos verify`, `custos encrypt`, `custos decrypt`, `custos rekey` and `custos monitor` go
straight to their own parsers without loading typer or the rest of the CLI: CI runs them on
every model and dataset, and start-up is most of what they cost beyond reading the bytes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from custos.errors import EXIT_OPERATIONAL, CustosError, DataError

LEAN = {
    "scan-model": ("custos.cli.scan_model", "run"),
    "scan-data": ("custos.cli.scan_data", "run"),
    "data-integrity": ("custos.cli.data_integrity", "run"),
    "probe": ("custos.cli.probe", "run"),
    "scan-gateway": ("custos.cli.scan_gateway", "run"),
    "scan-repo": ("custos.cli.scan_repo", "run"),
    "sign": ("custos.cli.sign_verify", "run_sign"),
    "verify": ("custos.cli.sign_verify", "run_verify"),
    "encrypt": ("custos.cli.crypt_files", "run_encrypt"),
    "decrypt": ("custos.cli.crypt_files", "run_decrypt"),
    "rekey": ("custos.cli.crypt_files", "run_rekey"),
    "monitor": ("custos.cli.monitor", "run"),
}


def main(argv: list[str] | None = None) -> None:
    """Entry point for the console script and `python -m custos`."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    _one_line_argparse_errors()
    if args[:1] and args[0] in LEAN:
        module_name, attribute = LEAN[args[0]]

        def lean() -> int:
            import importlib

            command: Callable[[list[str]], int] = getattr(
                importlib.import_module(module_name), attribute
            )
            return command(args[1:])

        guarded(lean, debug)

    def full() -> int:
        from typer import Abort
        from typer._click import exceptions as click_errors

        from custos.cli.app import _command_in, app, register

        # run_app's work, but not in standalone mode: usage errors come here to be rendered.
        command = _command_in(args)
        register([command] if command else None)
        try:
            # Returns the code of a typer.Exit (or the command's return value, ignored).
            result = app(args=args, prog_name="custos", standalone_mode=False)
        except click_errors.NoArgsIsHelpError as exc:
            return exc.exit_code  # the help is already printed
        except click_errors.UsageError as exc:
            _error("error:", usage_message(exc))
            return exc.exit_code
        except click_errors.ClickException as exc:
            _error("error:", _one_line(exc.format_message()))
            return exc.exit_code
        except Abort:
            _error("error:", "aborted")
            return 1
        return result if isinstance(result, int) and not isinstance(result, bool) else 0

    guarded(full, debug)


def usage_message(exc: Any) -> str:
    """One line for a typer usage error: the valid values of a choice, else click's message
    (with where to find help)."""
    param, ctx = getattr(exc, "param", None), getattr(exc, "ctx", None)
    choices = getattr(getattr(param, "type_descriptor", None), "choices", None)
    if param is not None and choices and not getattr(exc, "param_hint", None):
        valid = ", ".join(str(getattr(c, "value", c)) for c in choices)
        opts = getattr(param, "opts", None) or [getattr(param, "name", "value")]
        return _choice_line(exc.message, str(opts[0]), valid)
    text = _one_line(exc.format_message()).removesuffix(".")
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        text += f" (see `{ctx.command_path} {ctx.help_option_names[0]}`)"
    return text


def _choice_line(message: str, name: str, valid: str) -> str:
    found = re.search(r"'(.*?)' is not", message) or re.search(r"invalid choice: '(.*?)'", message)
    value = f": {found.group(1)!r} is not one of the choices" if found else ""
    return f"invalid value for {name}{value}; valid: {valid}"


def _one_line(message: str) -> str:
    """Click's message on one line, without pydantic's "Value error, " prefix."""
    return " ".join(message.replace("Value error, ", "").split())


def _one_line_argparse_errors() -> None:
    """The lean commands' argparse parsers report a usage error in one line, as typer's do."""
    import argparse

    def error(self: argparse.ArgumentParser, message: str) -> NoReturn:
        choice = re.match(r"argument (\S+?)(?:/\S+)?: invalid choice: .*\(choose from (.*)\)$",
                          message)  # fmt: skip
        if choice:
            valid = ", ".join(v.strip(" '") for v in choice.group(2).split(","))
            text = _choice_line(message, choice.group(1), valid)
        else:
            text = f"{message} (see `{self.prog} --help`)"
        _error("error:", text)
        sys.exit(2)

    argparse.ArgumentParser.error = error  # type: ignore[method-assign]


def guarded(run: Callable[[], int], debug: bool) -> None:
    """Run a command and exit with its code, turning Custos' errors into messages and exit
    codes. SystemExit (typer's and argparse's usage errors, exit 2) passes through."""
    try:
        code = run()
    except CustosError as exc:
        lines = exc.lines() if isinstance(exc, DataError) else str(exc).splitlines()
        for line in lines or [repr(exc)]:
            _error("error:", line)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
        hint = "" if debug else " (run with --debug for the traceback)"
        _error("internal error:", f"{type(exc).__name__}: {exc}{hint}")
        sys.exit(EXIT_OPERATIONAL)
    sys.exit(code)


def _error(label: str, text: str) -> None:
    from rich.text import Text  # rich only when there is something to say

    from custos.cli.output import err_console

    err_console.print(Text.assemble((label, "bold red"), " ", text), soft_wrap=True)
