"""Where a POSIX shell script (a GitLab CI `script:` line) lets the text of given variables
become code, for the pipeline rules (`workflows`). Lexed, never run.

The shell expands `$VAR` itself, and what an expansion yields is never parsed again as shell
code: `echo "$VAR"` is safe whatever VAR holds. The text becomes code when it is handed to
something that parses it: `eval`, a shell's `-c` script (`sh -c "... $VAR"`, also after
`docker run image`, `xargs`), an interpreter's code argument (`python -c`, `perl -e`), a shell
or interpreter reading its program from a pipe, a here-document or a here-string, or `ssh`'s
remote command line. Expanded unquoted as a command word, its words run as a command. Expanded
unquoted inside a command substitution it is split and globbed where the output is computed:
lesser, reported apart.

A lexer for the shell's quoting (single, double, `$'...'`, backslashes), expansions (`$VAR`,
`${VAR...}`, `$(...)`, backticks, `$((...))`), here-documents, comments, pipelines and command
lists; enough to tell `echo "$VAR"` from `eval $VAR`, not a full grammar. Aliases, functions,
variables copied into other variables and `case` patterns are not followed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["eval", "shell", "code", "stdin", "remote", "command", "substitution"]
# Every kind makes the text code, except "substitution" (split and globbed, not parsed).
CODE_KINDS = frozenset({"eval", "shell", "code", "stdin", "remote", "command"})


@dataclass(frozen=True)
class Use:
    """A variable's expansion that makes its text code (or splits it in a substitution)."""

    name: str
    offset: int  # of the `$` in the script
    kind: Kind
    via: str  # what parses the text: "eval", "bash -c", "python3 -c", "sh", "ssh"; or ""


def risky_uses(script: str, names: Iterable[str]) -> list[Use]:
    """The uses of the named variables in the script that make their text code, one per
    expansion (the gravest way it is used), in order."""
    wanted = frozenset(names)
    if not any(name in script for name in wanted):
        return []
    best: dict[int, Use] = {}
    try:
        for use in _judge(script, 0, wanted, 0, 0):
            kept = best.get(use.offset)
            if kept is None or (kept.kind not in CODE_KINDS and use.kind in CODE_KINDS):
                best[use.offset] = use
    finally:
        _pipelines.cache_clear()
    return [best[offset] for offset in sorted(best)]


# -- lexing -------------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED = re.compile(r"([#!]?)([A-Za-z_][A-Za-z0-9_]*)")
_INNER = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_OPERATOR = re.compile(r"\d*(?:<<<|<<-|<<|>>|>&|<&|>\||<>|<|>)|&>>|&>|&&|\|\||;;&?|;&|\|&|[;&|()]")
_SPECIAL = frozenset("?$#@*!-0123456789")
_BREAK = frozenset(" \t\n;&|()<>")


@dataclass
class _Var:
    name: str
    offset: int
    quoted: bool  # inside double quotes (or a here-document): not split


@dataclass
class _Sub:
    """A command substitution's script."""

    text: str
    offset: int
    quoted: bool


@dataclass
class _Word:
    offset: int
    raw: str = ""
    value: str = ""  # with quotes removed and expansions dropped
    chars: list[str] = field(default_factory=list)  # value's pieces while lexing
    plain: bool = True  # no expansion: `value` is what the shell sees
    quoted: bool = False  # quoting characters appear (a here-document delimiter that is)
    vars: list[_Var] = field(default_factory=list)
    subs: list[_Sub] = field(default_factory=list)

    def single(self) -> tuple[str, int] | None:
        """The text and offset of a word that is one single-quoted string."""
        raw = self.raw
        if len(raw) >= 2 and raw[0] == "'" and raw.find("'", 1) == len(raw) - 1:
            return raw[1:-1], self.offset + 1
        return None


@dataclass
class _Heredoc:
    strip: bool  # `<<-`: leading tabs
    delimiter: str = ""
    expand: bool = True  # an unquoted delimiter: the body is expanded
    body: _Word | None = None  # expansions of an expanded body (as in double quotes)
    text: str = ""
    offset: int = 0


@dataclass
class _Op:
    text: str
    heredoc: _Heredoc | None = None


_Token = _Word | _Op


class _Lexer:
    def __init__(self, text: str, base: int) -> None:
        self.s = text
        self.base = base
        self.i = 0
        self.pending: list[_Heredoc] = []

    def tokens(self) -> list[_Token]:
        s, n = self.s, len(self.s)
        out: list[_Token] = []
        delimiter_for: _Heredoc | None = None
        while self.i < n:
            c = s[self.i]
            if c in " \t\r":
                self.i += 1
            elif c == "\\" and s.startswith("\n", self.i + 1):
                self.i += 2  # a continued line
            elif c == "\n":
                out.append(_Op("\n"))
                self.i += 1
                self._bodies()
            elif c == "#":
                end = s.find("\n", self.i)
                self.i = n if end < 0 else end
            elif s.startswith("((", self.i):  # an arithmetic command: numbers, not commands
                self.i = _arithmetic_end(s, self.i + 2)
            else:
                found = _OPERATOR.match(s, self.i)  # `2>&1`: digits only before a redirection
                if found is not None:
                    op = _Op(found[0].lstrip("0123456789"))
                    if op.text in ("<<", "<<-"):
                        op.heredoc = delimiter_for = _Heredoc(op.text == "<<-")
                    out.append(op)
                    self.i = found.end()
                    continue
                word = self._word()
                out.append(word)
                if delimiter_for is not None:
                    delimiter_for.delimiter = word.value
                    delimiter_for.expand = not word.quoted
                    self.pending.append(delimiter_for)
                    delimiter_for = None
        return out

    def _bodies(self) -> None:
        """The here-documents announced on the line just ended: their lines up to the
        delimiter."""
        s = self.s
        for heredoc in self.pending:
            start = self.i
            while self.i < len(s):
                end = s.find("\n", self.i)
                end = len(s) if end < 0 else end
                line = s[self.i : end]
                if (line.lstrip("\t") if heredoc.strip else line).rstrip("\r") == (
                    heredoc.delimiter
                ):
                    heredoc.text, heredoc.offset = s[start : self.i], self.base + start
                    self.i = end + 1
                    break
                self.i = end + 1
            else:
                heredoc.text, heredoc.offset = s[start:], self.base + start
            if heredoc.expand:
                body = _Word(heredoc.offset)
                _Lexer(heredoc.text, heredoc.offset)._double(0, body, heredoc=True)
                heredoc.body = body
        self.pending = []

    def _word(self) -> _Word:
        s, n = self.s, len(self.s)
        start = self.i
        word = _Word(self.base + start)
        i = start
        while i < n:
            c = s[i]
            if c in _BREAK:
                break
            if c == "\\":
                word.chars.append(s[i + 1 : i + 2].replace("\n", ""))
                word.quoted = True
                i += 2
            elif c == "'":
                end = s.find("'", i + 1)
                end = n if end < 0 else end
                word.chars.append(s[i + 1 : end])
                word.quoted = True
                i = end + 1
            elif c == '"':
                word.quoted = True
                i = self._double(i + 1, word)
            elif c == "$":
                i = self._dollar(i, word, quoted=False)
            elif c == "`":
                i = self._backtick(i, word, quoted=False)
            else:
                word.chars.append(c)
                i += 1
        self.i = min(i, n)
        word.raw = s[start : self.i]
        word.value = "".join(word.chars)
        return word

    def _double(self, i: int, word: _Word, *, heredoc: bool = False) -> int:
        """The inside of double quotes (or a here-document's body) from i; the index after
        the closing quote."""
        s, n = self.s, len(self.s)
        escapable = "$`\\\n" if heredoc else '$`"\\\n'
        while i < n:
            c = s[i]
            if c == '"' and not heredoc:
                return i + 1
            if c == "\\" and s[i + 1 : i + 2] and s[i + 1] in escapable:
                word.chars.append(s[i + 1].replace("\n", ""))
                i += 2
            elif c == "$":
                i = self._dollar(i, word, quoted=True)
            elif c == "`":
                i = self._backtick(i, word, quoted=True)
            else:
                word.chars.append(c)
                i += 1
        return n

    def _dollar(self, i: int, word: _Word, *, quoted: bool) -> int:
        s = self.s
        nxt = s[i + 1 : i + 2]
        if s.startswith("$((", i):
            word.plain = False
            return _arithmetic_end(s, i + 3)
        if nxt == "(":
            end = _close(s, i + 2)
            word.subs.append(_Sub(s[i + 2 : end], self.base + i + 2, quoted))
            word.plain = False
            return end + 1
        if nxt == "{":
            end = _brace_end(s, i + 2)
            inner = s[i + 2 : end]
            found = _BRACED.match(inner)
            if found is not None and not (found[1] == "#" and found.end() == len(inner)):
                word.vars.append(_Var(found[2], self.base + i, quoted))
                rest = found.end()
                for more in _INNER.finditer(inner, rest):  # ${A:-$B}
                    at = i + 2 + more.start()
                    if s[at - 1 : at] != "\\":
                        word.vars.append(_Var(more[1], self.base + at, quoted))
            word.plain = False
            return end + 1
        if nxt == "'" and not quoted:  # $'...': ANSI-C quoting, a literal
            j = i + 2
            while j < len(s) and s[j] != "'":
                j += 2 if s[j] == "\\" else 1
            word.chars.append(s[i + 2 : j])
            word.quoted = True
            return j + 1
        found = _NAME.match(s, i + 1)
        if found is not None:
            word.vars.append(_Var(found[0], self.base + i, quoted))
            word.plain = False
            return found.end()
        if nxt and nxt in _SPECIAL:
            word.plain = False
            return i + 2
        word.chars.append("$")
        return i + 1

    def _backtick(self, i: int, word: _Word, *, quoted: bool) -> int:
        s = self.s
        j = i + 1
        while j < len(s) and s[j] != "`":
            j += 2 if s[j] == "\\" else 1
        word.subs.append(_Sub(s[i + 1 : j], self.base + i + 1, quoted))
        word.plain = False
        return j + 1


def _close(s: str, j: int) -> int:
    """The index of the `)` that closes a `$(` whose inside starts at j (len(s) if none).
    Iterative: what closes each open context is on a stack (`)` for `$(` and `(`, `"` for a
    double-quoted string), so deep nesting costs no recursion."""
    stack = [")"]
    n = len(s)
    while j < n:
        c = s[j]
        if c == "\\":
            j += 2
        elif c == "`":
            j = _skip_backtick(s, j + 1)
        elif stack[-1] == '"':
            if c == '"':
                stack.pop()
            elif s.startswith("$(", j):
                stack.append(")")
                j += 1
            j += 1
        elif c == "'":
            end = s.find("'", j + 1)
            j = n if end < 0 else end + 1
        elif c == '"':
            stack.append('"')
            j += 1
        elif c == "#" and (j == 0 or s[j - 1] in " \t\n"):
            end = s.find("\n", j)
            j = n if end < 0 else end
        else:
            if c == "(":
                stack.append(")")
            elif c == ")":
                stack.pop()
                if not stack:
                    return j
            j += 1
    return n


def _skip_backtick(s: str, j: int) -> int:
    while j < len(s) and s[j] != "`":
        j += 2 if s[j] == "\\" else 1
    return j + 1


def _brace_end(s: str, j: int) -> int:
    depth = 1
    while j < len(s):
        if s[j] == "\\":
            j += 2
            continue
        if s.startswith("${", j):
            depth += 1
            j += 2
            continue
        if s[j] == "}":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return len(s)


def _arithmetic_end(s: str, j: int) -> int:
    """The index after the `))` closing an arithmetic expression whose inside starts at j."""
    depth = 0
    while j < len(s):
        if s[j] == "(":
            depth += 1
        elif s[j] == ")":
            if depth == 0 and s.startswith("))", j):
                return j + 2
            depth -= 1
        j += 1
    return len(s)


# -- commands -----------------------------------------------------------------------------------


@dataclass
class _Command:
    words: list[_Word] = field(default_factory=list)
    heredocs: list[_Heredoc] = field(default_factory=list)
    herestrings: list[_Word] = field(default_factory=list)
    other: list[_Word] = field(default_factory=list)  # redirection targets, here-doc delimiters


_Pipeline = list[_Command]
_LIST_OPS = frozenset({";", "&", "&&", "||", "\n", "(", ")", ";;", ";&", ";;&"})


@functools.lru_cache(maxsize=64)
def _pipelines(text: str, base: int) -> list[_Pipeline]:
    """A script (at base in the whole) as its pipelines; a script inside another (a command
    substitution) is judged more than once, so it is parsed once per risky_uses."""
    return _parse(_Lexer(text, base).tokens())


def _parse(tokens: list[_Token]) -> list[_Pipeline]:
    pipelines: list[_Pipeline] = []
    pipeline: _Pipeline = []
    command = _Command()
    redirect: _Op | None = None
    for token in tokens:
        if isinstance(token, _Word):
            if redirect is None:
                command.words.append(token)
            elif redirect.text == "<<<":
                command.herestrings.append(token)
            else:
                command.other.append(token)
            redirect = None
            continue
        redirect = None
        if "<" in token.text or ">" in token.text:
            redirect = token
            if token.heredoc is not None:
                command.heredocs.append(token.heredoc)
            continue
        if command.words or command.heredocs or command.herestrings or command.other:
            pipeline.append(command)
        command = _Command()
        if token.text in _LIST_OPS and pipeline:
            pipelines.append(pipeline)
            pipeline = []
    if command.words or command.heredocs or command.herestrings or command.other:
        pipeline.append(command)
    if pipeline:
        pipelines.append(pipeline)
    return pipelines


# Words that come before a command (reserved words, `time`, wrappers that run their argument).
_LEADING = frozenset({
    "!", "{", "}", "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "time",
    "exec", "command", "nohup", "sudo", "builtin",
})  # fmt: skip
_COMPOUND = frozenset({"for", "case", "select", "in", "esac", "function"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh"})
_INTERPRETER = re.compile(r"(?:python[\d.]*|pypy[\d.]*|perl|ruby|node|nodejs|php|pwsh)")
_CODE_FLAGS = {"python": {"-c"}, "pypy": {"-c"}, "perl": {"-e", "-E"}, "ruby": {"-e"},
               "node": {"-e", "-p", "--eval", "--print"}, "nodejs": {"-e", "-p", "--eval"},
               "php": {"-r"}, "pwsh": {"-c", "-Command", "-command"}}  # fmt: skip
_VALUED = {"python": "WX", "pypy": "WX", "perl": "Il", "ruby": "Ir"}  # options taking a value
_SSH_VALUED = "BbcDEeFIiJLlmOoPpQRSWw"


_MAX_NEST = 8  # scripts inside scripts (substitutions, `sh -c '...'`): deeper is not followed


def _judge(text: str, base: int, names: frozenset[str], depth: int, nest: int) -> Iterator[Use]:
    """The uses in a script (at base in the whole); depth counts the command substitutions
    around it, nest every script around it."""
    if nest > _MAX_NEST:
        return
    for pipeline in _pipelines(text, base):
        for k, command in enumerate(pipeline):
            yield from _command(command, names, depth, nest)
            via = _reads_code(command) if k else None
            if via is not None:
                for earlier in pipeline[:k]:
                    for name, offset in _mentions_in_command(earlier, names, nest):
                        yield Use(name, offset, "stdin", via)
            subs = [sub for word in _all_words(command) for sub in word.subs]
            subs += [s for h in command.heredocs if h.body is not None for s in h.body.subs]
            for sub in subs:
                yield from _judge(sub.text, sub.offset, names, depth + 1, nest + 1)


def _all_words(command: _Command) -> list[_Word]:
    return [*command.words, *command.herestrings, *command.other]


def _command(command: _Command, names: frozenset[str], depth: int, nest: int) -> Iterator[Use]:
    args = _arguments(command)
    if not args:
        return
    head = args[0]
    for var in head.vars:
        if var.name in names and not var.quoted:
            yield Use(var.name, var.offset, "command", "")
    for sub in head.subs:
        if not sub.quoted:  # the output's words run as a command
            for name, offset in _mentions(sub.text, sub.offset, names, nest + 1):
                yield Use(name, offset, "command", "")
    program = _program(head)
    if program == "eval":
        for word in args[1:]:
            for name, offset in _mentions_in_word(word, names, nest):
                yield Use(name, offset, "eval", "eval")
    yield from _shell_c(args, names, depth, nest)
    if program is not None and _INTERPRETER.fullmatch(program):
        yield from _interpreter_code(program, args, names, nest)
    if program == "ssh":
        yield from _ssh(args, names, nest)
    via = _reads_code(command)
    if via is not None:
        yield from _fed(command, via, names, depth, nest)
    if depth:
        for word in args[1:]:
            for var in word.vars:
                if var.name in names and not var.quoted:
                    yield Use(var.name, var.offset, "substitution", "")


def _arguments(command: _Command) -> list[_Word]:
    """The command word and its arguments: without assignments, reserved words and wrappers
    before it; nothing for `for`, `case` and `select` lines."""
    words = command.words
    start = 0
    while start < len(words):
        word = words[start]
        if word.plain and not word.quoted and word.value in _LEADING:
            start += 1
        elif word.plain and not word.quoted and word.value in _COMPOUND:
            return []
        elif _ASSIGNMENT.match(word.raw):
            start += 1
        else:
            break
    return words[start:]


def _program(word: _Word) -> str | None:
    """The command's name without its folder (`/bin/sh` -> `sh`), when it is written out."""
    if not word.plain:
        return None
    return word.value.rsplit("/", 1)[-1]


def _options(
    args: list[_Word], start: int, takes_value: str = ""
) -> tuple[list[tuple[int, str]], int]:
    """The options from start as (index, text), and the index of the first operand
    (len(args) when none). A letter in takes_value takes the next word as its value."""
    found: list[tuple[int, str]] = []
    j = start
    while j < len(args) and args[j].plain and args[j].value.startswith(("-", "+")):
        value = args[j].value
        if value == "--":
            return found, j + 1
        if value == "-":
            return found, j
        found.append((j, value))
        letters = "" if value.startswith("--") else value[1:]
        j += 1
        for index, letter in enumerate(letters):
            if letter in takes_value:
                if index == len(letters) - 1:
                    j += 1  # the value is the next word
                break
    return found, j


def _has_c(options: list[tuple[int, str]]) -> bool:
    """`-c`, also among other letters (`-ec`, `-xc`)."""
    return any(not v.startswith("--") and "c" in v[1:] for _, v in options)


def _shell_c(args: list[_Word], names: frozenset[str], depth: int, nest: int) -> Iterator[Use]:
    """`sh -c SCRIPT` anywhere in the command (also `docker run image bash -c ...`): the
    outer shell expands variables into the script, which the inner shell parses. Operands
    after the script (`$0`, `$1`, ...) are data: that is the safe way to pass text."""
    for i, word in enumerate(args):
        program = _program(word)
        if program not in _SHELLS:
            continue
        options, j = _options(args, i + 1, "oO")
        if not _has_c(options):
            continue
        if j >= len(args):
            return
        script = args[j]
        single = script.single()
        if single is not None:  # the inner shell's own script: judged as one
            yield from _judge(single[0], single[1], names, depth, nest + 1)
        else:
            for name, offset in _mentions_in_word(script, names, nest):
                yield Use(name, offset, "shell", f"{program} -c")
        return


def _interpreter_code(
    program: str, args: list[_Word], names: frozenset[str], nest: int
) -> Iterator[Use]:
    family = re.sub(r"[\d.]+$", "", program)
    flags = _CODE_FLAGS.get(family, set())
    options, _ = _options(args, 1, _VALUED.get(family, ""))
    for j, value in options:
        if value in flags and j + 1 < len(args):
            code = args[j + 1]
            if code.single() is None:
                for name, offset in _mentions_in_word(code, names, nest):
                    yield Use(name, offset, "code", f"{program} {value}")
            return


def _ssh(args: list[_Word], names: frozenset[str], nest: int) -> Iterator[Use]:
    """ssh joins its command words and the remote shell parses them."""
    _, host = _options(args, 1, _SSH_VALUED)
    for word in args[host + 1 :]:
        if word.single() is None:
            for name, offset in _mentions_in_word(word, names, nest):
                yield Use(name, offset, "remote", "ssh")


def _reads_code(command: _Command) -> str | None:
    """The program, when the command reads its program from standard input: a shell or an
    interpreter without a script operand (or with `-`), `ssh host` without a command."""
    args = _arguments(command)
    program = _program(args[0]) if args else None
    if program is None:
        return None
    if program in _SHELLS:
        options, j = _options(args, 1, "oO")
        stdin = not _has_c(options) and (j >= len(args) or args[j].value == "-")
        return program if stdin else None
    if _INTERPRETER.fullmatch(program):
        family = re.sub(r"[\d.]+$", "", program)
        options, j = _options(args, 1, _VALUED.get(family, ""))
        if any(v in _CODE_FLAGS.get(family, ()) or v == "-m" for _, v in options):
            return None
        return program if j >= len(args) or args[j].value == "-" else None
    if program == "ssh":
        _, host = _options(args, 1, _SSH_VALUED)
        return program if host + 1 >= len(args) else None
    return None


def _fed(
    command: _Command, via: str, names: frozenset[str], depth: int, nest: int
) -> Iterator[Use]:
    """Here-documents and here-strings given to a program that runs them as code."""
    for word in command.herestrings:
        for name, offset in _mentions_in_word(word, names, nest):
            yield Use(name, offset, "stdin", via)
    for heredoc in command.heredocs:
        if heredoc.body is not None:
            for name, offset in _mentions_in_word(heredoc.body, names, nest):
                yield Use(name, offset, "stdin", via)
        elif via in _SHELLS:  # `bash <<'EOF'`: the inner shell's own script
            yield from _judge(heredoc.text, heredoc.offset, names, depth, nest + 1)


def _mentions_in_word(word: _Word, names: frozenset[str], nest: int) -> Iterator[tuple[str, int]]:
    """Every expansion of the named variables in a word, in its substitutions too."""
    for var in word.vars:
        if var.name in names:
            yield var.name, var.offset
    for sub in word.subs:
        yield from _mentions(sub.text, sub.offset, names, nest + 1)


def _mentions_in_command(
    command: _Command, names: frozenset[str], nest: int
) -> Iterator[tuple[str, int]]:
    for word in _all_words(command):
        yield from _mentions_in_word(word, names, nest)
    for heredoc in command.heredocs:
        if heredoc.body is not None:
            yield from _mentions_in_word(heredoc.body, names, nest)


def _mentions(
    script: str, base: int, names: frozenset[str], nest: int
) -> Iterator[tuple[str, int]]:
    if nest > _MAX_NEST:
        return
    for pipeline in _pipelines(script, base):
        for command in pipeline:
            yield from _mentions_in_command(command, names, nest)
