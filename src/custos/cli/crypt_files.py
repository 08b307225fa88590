"""`custos encrypt | decrypt | rekey`: files in and out of Custos' encrypted format
(docs/encryption.md). Lean argparse commands, like `scan-data`: a pipeline encrypts every
dataset it writes, and typer's start-up would be a fifth of a 2 GiB file's time.

Exit codes: 0 ok; 2 bad input (a missing or retired KEK, a wrong passphrase, a file that fails
authentication). A failed decryption writes nothing: the output appears only once every segment
authenticated.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from custos.cli.scan_model import Formatter
from custos.errors import EXIT_OK, UserError

if TYPE_CHECKING:
    from custos.datacrypt.keks import Keks

DIR_HELP = "the project; its .custos/ holds the KEKs (default: .)"


def _parser(command: str, description: str, example: str) -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(
        prog=f"custos {command}",
        description=description,
        epilog=f"Example: {example}",
        formatter_class=Formatter,
    )
    built.add_argument("--dir", type=Path, default=Path("."), dest="base", metavar="DIR",
                       help=DIR_HELP)  # fmt: skip
    return built


def _passphrase() -> bytes:
    from custos.datacrypt.keks import PASSPHRASE_ENV

    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value.encode()
    if not sys.stdin.isatty():
        raise UserError(f"${PASSPHRASE_ENV} is not set and there is no terminal to ask on")
    import getpass

    return getpass.getpass(f"KEK passphrase (or set {PASSPHRASE_ENV}): ").encode()


def _keks(base: Path) -> Keks:
    from custos.datacrypt.keks import Keks

    return Keks(base, _passphrase)


def _file(path: Path) -> Path:
    if not path.is_file():
        raise UserError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    return path


def run_encrypt(argv: list[str]) -> int:
    built = _parser(
        "encrypt",
        "Encrypt a file: AES-256-GCM in 1 MiB segments, a random data key wrapped by a KEK.",
        "custos encrypt data/train.csv --kek data-2026",
    )
    built.add_argument("source", type=Path, metavar="FILE", help="the file to encrypt")
    built.add_argument("--out", type=Path, help="default: FILE.cenc")
    built.add_argument("--kek", metavar="ID", help="default: the only active KEK")
    args = built.parse_args(argv)
    from custos.datacrypt.stream import encrypt_file

    source = _file(args.source)
    keks = _keks(args.base)
    kek_id = keks.active(args.kek)
    target: Path = args.out or source.with_name(source.name + ".cenc")
    if target.resolve() == source.resolve():
        raise UserError(f"{target}: the output would overwrite the input")
    encrypt_file(source, target, kek_id, keks.key(kek_id))
    print(f"{source} -> {target} (KEK {kek_id})")
    return EXIT_OK


def run_decrypt(argv: list[str]) -> int:
    built = _parser(
        "decrypt",
        "Decrypt a file, or verify it with --check. Every segment is authenticated before the "
        "output appears (written to a temporary file, then renamed).",
        "custos decrypt data/train.csv.cenc --out /tmp/train.csv",
    )
    built.add_argument("source", type=Path, metavar="FILE", help="an encrypted file")
    built.add_argument("--out", type=Path, help="where the plaintext goes")
    built.add_argument("--check", action="store_true", help="only verify; write nothing")
    args = built.parse_args(argv)
    from custos.datacrypt.format import FormatError
    from custos.datacrypt.stream import AuthenticationError, decrypt_file

    source = _file(args.source)
    if args.out is None and not args.check:
        raise UserError("give --out PATH for the plaintext, or --check to only verify")
    try:
        header = decrypt_file(source, None if args.check else args.out, _keks(args.base).key)
    except (AuthenticationError, FormatError) as exc:
        raise UserError(f"{source}: {exc}") from None
    done = "verified" if args.check else f"-> {args.out}"
    print(f"{source}: {done} (KEK {header.kek_id}, every segment authenticated)")
    return EXIT_OK


def run_rekey(argv: list[str]) -> int:
    built = _parser(
        "rekey",
        "Wrap a file's data key with another KEK; the encrypted segments are not re-sealed.",
        "custos rekey data/train.csv.cenc --kek data-2027",
    )
    built.add_argument("path", type=Path, metavar="FILE", help="an encrypted file")
    built.add_argument("--kek", metavar="ID", required=True, help="the KEK to wrap it with")
    args = built.parse_args(argv)
    from custos.datacrypt.format import FormatError
    from custos.datacrypt.stream import AuthenticationError, rekey_file

    path = _file(args.path)
    keks = _keks(args.base)
    new_id = keks.active(args.kek)
    try:
        header = rekey_file(path, keks.key, new_id, keks.key(new_id))
    except (AuthenticationError, FormatError) as exc:
        raise UserError(f"{path}: {exc}") from None
    print(f"{path}: data key now wrapped by KEK {header.kek_id}")
    return EXIT_OK
