"""Where a shell script makes a variable's text code (custos.repo.shellvars): each way planted,
each with the safe look-alike written the way careful scripts write it."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custos.repo.shellvars import CODE_KINDS, risky_uses

NAMES = frozenset({"CI_COMMIT_MESSAGE", "CI_COMMIT_BRANCH", "CI_MERGE_REQUEST_TITLE"})

# (script, [(variable, kind, via)]): the variable at its first `$` in the script
PLANTED = [
    ("eval $CI_COMMIT_MESSAGE", [("CI_COMMIT_MESSAGE", "eval", "eval")]),
    ('eval "$CI_COMMIT_MESSAGE"', [("CI_COMMIT_MESSAGE", "eval", "eval")]),
    ('eval "git checkout ${CI_COMMIT_BRANCH}"', [("CI_COMMIT_BRANCH", "eval", "eval")]),
    ('[ -n "$X" ] && eval "$(echo "$CI_COMMIT_MESSAGE")"', [("CI_COMMIT_MESSAGE", "eval", "eval")]),
    ('sh -c "echo $CI_COMMIT_MESSAGE"', [("CI_COMMIT_MESSAGE", "shell", "sh -c")]),
    ('/bin/bash -ec "make $CI_COMMIT_BRANCH"', [("CI_COMMIT_BRANCH", "shell", "bash -c")]),
    ('bash -o pipefail -c "git log $CI_COMMIT_BRANCH"', [("CI_COMMIT_BRANCH", "shell", "bash -c")]),
    ('docker run --rm img sh -c "echo $CI_MERGE_REQUEST_TITLE"',
     [("CI_MERGE_REQUEST_TITLE", "shell", "sh -c")]),
    ("sh -c 'eval $CI_COMMIT_MESSAGE'", [("CI_COMMIT_MESSAGE", "eval", "eval")]),
    ("python3 -c \"print('$CI_COMMIT_MESSAGE')\"", [("CI_COMMIT_MESSAGE", "code", "python3 -c")]),
    ('perl -e "print q{$CI_COMMIT_MESSAGE}"', [("CI_COMMIT_MESSAGE", "code", "perl -e")]),
    ('echo "$CI_COMMIT_MESSAGE" | sh', [("CI_COMMIT_MESSAGE", "stdin", "sh")]),
    ('printf %s "$CI_COMMIT_MESSAGE" | tee m | bash -s', [("CI_COMMIT_MESSAGE", "stdin", "bash")]),
    ('bash <<< "$CI_COMMIT_MESSAGE"', [("CI_COMMIT_MESSAGE", "stdin", "bash")]),
    ("bash <<EOF\necho $CI_COMMIT_MESSAGE\nEOF", [("CI_COMMIT_MESSAGE", "stdin", "bash")]),
    ("python - <<EOF\nprint('$CI_COMMIT_MESSAGE')\nEOF",
     [("CI_COMMIT_MESSAGE", "stdin", "python")]),
    ("bash <<'EOF'\neval \"$CI_COMMIT_MESSAGE\"\nEOF", [("CI_COMMIT_MESSAGE", "eval", "eval")]),
    ('ssh -p 2222 -i key deploy@host "cd /srv && git checkout $CI_COMMIT_BRANCH"',
     [("CI_COMMIT_BRANCH", "remote", "ssh")]),
    ("$CI_COMMIT_MESSAGE", [("CI_COMMIT_MESSAGE", "command", "")]),
    ("LANG=C ${CI_COMMIT_MESSAGE} --flag", [("CI_COMMIT_MESSAGE", "command", "")]),
    ("if true; then $CI_COMMIT_BRANCH; fi", [("CI_COMMIT_BRANCH", "command", "")]),
    ("sudo $CI_COMMIT_BRANCH", [("CI_COMMIT_BRANCH", "command", "")]),
    ('$(echo "$CI_COMMIT_MESSAGE")', [("CI_COMMIT_MESSAGE", "command", "")]),
    ("echo `echo $CI_COMMIT_MESSAGE`", [("CI_COMMIT_MESSAGE", "substitution", "")]),
    ('echo "$(printf %s $CI_COMMIT_MESSAGE)"', [("CI_COMMIT_MESSAGE", "substitution", "")]),
    ("V=$(echo $CI_COMMIT_BRANCH | tr / -)", [("CI_COMMIT_BRANCH", "substitution", "")]),
    ('cat <<EOF\n$(echo $CI_COMMIT_BRANCH)\nEOF', [("CI_COMMIT_BRANCH", "substitution", "")]),
    ("echo ok &&\n  eval $CI_COMMIT_MESSAGE; eval $CI_MERGE_REQUEST_TITLE",
     [("CI_COMMIT_MESSAGE", "eval", "eval"), ("CI_MERGE_REQUEST_TITLE", "eval", "eval")]),
]  # fmt: skip

SAFE = [
    'echo "$CI_COMMIT_MESSAGE"',
    "echo $CI_COMMIT_MESSAGE",  # split and globbed, but never parsed as code
    'git commit -m "${CI_COMMIT_MESSAGE}" 2>&1 | tee log.txt',
    'if [ "$CI_COMMIT_BRANCH" = "main" ]; then make release; fi',
    "[[ $CI_COMMIT_BRANCH == release/* ]] && make release",
    "docker build -t app:$CI_COMMIT_BRANCH .",
    "export BRANCH=$CI_COMMIT_BRANCH",
    "TITLE=$CI_MERGE_REQUEST_TITLE ./notify.sh",
    "echo '$CI_COMMIT_MESSAGE'",
    "echo \\$CI_COMMIT_MESSAGE",
    "eval \\$CI_COMMIT_MESSAGE",
    "echo $$CI_COMMIT_MESSAGE",
    "echo ${#CI_COMMIT_MESSAGE}",
    "echo $CI_COMMIT_MESSAGE_SLUG ${CI_COMMIT_BRANCHES}",
    'echo "$(git log -1 --format=%s "$CI_COMMIT_BRANCH")"',
    "sh -c 'echo \"$CI_COMMIT_MESSAGE\"'",
    'sh -c \'printf "%s\\n" "$1"\' _ "$CI_COMMIT_MESSAGE"',
    'bash ./deploy.sh "$CI_COMMIT_BRANCH"',
    "python3 -c 'import os; print(os.environ[\"CI_COMMIT_MESSAGE\"])'",
    'python3 train.py --note "$CI_COMMIT_MESSAGE"',
    'echo "$CI_COMMIT_MESSAGE" | grep -q skip',
    "cat <<EOF > notes.md\n$CI_COMMIT_MESSAGE\nEOF\necho done",
    "bash <<'EOF'\necho \"$CI_COMMIT_MESSAGE\"\nEOF",
    "ssh deploy@host './deploy.sh \"$CI_COMMIT_BRANCH\"'",  # the local shell expands nothing
    "echo $((1 + 2)) && (( n = 3 ))",
    "echo ok # eval $CI_COMMIT_MESSAGE",
    'for word in $CI_COMMIT_MESSAGE; do echo "$word"; done',
    'case "$CI_COMMIT_BRANCH" in main) echo main;; esac',
    'echo "$CI_COMMIT_MESSAGE" > msg.txt; sh msg.txt',
]


@pytest.mark.parametrize(("script", "expected"), PLANTED, ids=[p[0][:40] for p in PLANTED])
def test_planted(script: str, expected: list[tuple[str, str, str]]) -> None:
    found = risky_uses(script, NAMES)
    assert [(u.name, u.kind, u.via) for u in found] == expected
    for use in found:
        assert script[use.offset] == "$"
        assert script[use.offset :].lstrip("${").startswith(use.name)


@pytest.mark.parametrize("script", SAFE)
def test_safe_look_alikes(script: str) -> None:
    assert risky_uses(script, NAMES) == []


def test_kinds() -> None:
    assert "substitution" not in CODE_KINDS
    assert {"eval", "shell", "command"} <= CODE_KINDS


def test_one_use_is_reported_once_at_its_gravest() -> None:
    # the substitution is a command word (its output runs) and holds an unquoted use
    (use,) = risky_uses("$(echo $CI_COMMIT_MESSAGE)", NAMES)
    assert use.kind == "command"


def test_unclosed_and_deeply_nested_input_ends() -> None:
    for script in (
        'eval "$CI_COMMIT_MESSAGE',
        "$(eval $CI_COMMIT_MESSAGE",
        "`$CI_COMMIT_BRANCH",
        "${CI_COMMIT_BRANCH",
        "bash <<EOF\n$CI_COMMIT_BRANCH",
        "x <<",
        "2>&",
    ):
        risky_uses(script, NAMES)  # fmt: skip
    assert [u.kind for u in risky_uses('eval "$CI_COMMIT_MESSAGE', NAMES)] == ["eval"]
    deep = "echo " + '"$(' * 4000 + "eval $CI_COMMIT_MESSAGE" + ')"' * 4000
    started = time.perf_counter()
    assert risky_uses(deep, NAMES) == []  # past the nesting followed
    assert time.perf_counter() - started < 5


PIECES = st.sampled_from([
    "$CI_COMMIT_MESSAGE", "${CI_COMMIT_BRANCH}", "${CI_COMMIT_BRANCH:-x}", "eval", "sh", "-c",
    "bash", "python", "ssh", "host", " ", "\n", '"', "'", "`", "$(", "$((", ")", "(", "|", ";",
    "&&", "<<", "<<-", "<<<", "EOF", ">", "2>&1", "\\", "#", "$'", "{", "}", "if", "then",
    "x=", "echo", "$", "$$", "\t",
])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40))
def test_any_shell_text_gives_uses_at_their_variables(pieces: list[str]) -> None:
    script = "".join(pieces)
    for use in risky_uses(script, NAMES):
        assert use.name in NAMES
        assert script[use.offset] == "$"
        assert script[use.offset :].lstrip("${").startswith(use.name)
