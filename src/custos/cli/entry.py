"""The `custos` console script: error handling in one place, and a lean path for scan-model.

Errors are handled once, here: a `UserError` prints its message and exits 2, any other
`CustosError` exits 3, and an unexpected exception prints "internal error" (with the traceback
only under `--debug`) and exits 3. Exit codes: 0 ok, 1 findings or a failed gate, 2 bad input or
usage, 3 operational or internal error.

`custos scan-model`, `custos scan-data`, `custos data-integrity`, `custos probe`,
`custos scan-gateway`, `custos scan-repo`, `custos sign`,
`custos verify`, `custos encrypt`, `custos decrypt`, `custos rekey` and `custos monitor` go
straight to their own parsers without loading typer or the rest of the CLI: CI runs them on
every model and dataset, and start-up is most of what they cost beyond reading the bytes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

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
        from custos.cli.app import run_app

        run_app(args)
        return 0

    guarded(full, debug)


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
