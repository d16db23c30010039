"""How ``tests/test_readme.py`` reads README.md: fenced blocks, console transcripts, scripts.

Kept apart from the test so the rules (what a block is, how output is matched, which ``make``
lines are not re-run) can be read in one place and unit-tested without a demo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COMMAND_LANGUAGES = ("bash", "sh", "console")
#: The port the README's commands name; the test rewrites it to a free one.
README_PORT = 8000
#: Make targets a README block may name, and why the test does not run them.
SKIPPED_MAKE_TARGETS = {
    "demo": "the demo fixture runs the recipe's own command (python -m service.demo) on a small "
    "province and without serving; the full one trains for minutes and serves forever",
    "test": "this test is part of `make test`: running it here would recurse",
    "lint": "CI runs it as its own step; it checks the code, not the README",
    "bench": "runs every benchmark (bench/run_all.py): CPU the README test cannot afford",
    "install": "creates .venv; the test runs in the interpreter that runs the suite",
}
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<language>[\w-]*)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block of the README: its info string, where it starts and its text."""

    language: str
    line: int
    text: str


def parse_blocks(markdown: str) -> list[Block]:
    """Fenced blocks in order, each dedented by its fence's indentation (list items indent them)."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent = len(opening["indent"])
        body: list[str] = []
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            body.append(lines[j][indent:] if lines[j][:indent].isspace() else lines[j].lstrip())
            j += 1
        assert j < len(lines), f"README.md:{i + 1}: fenced block never closed"
        blocks.append(Block(opening["language"], i + 1, "\n".join(body)))
        i = j + 1
    return blocks


@dataclass(frozen=True)
class ConsoleCommand:
    """A ``$ `` line of a console block and the output lines the README shows for it."""

    command: str
    expected: list[str]


def parse_console(text: str) -> list[ConsoleCommand]:
    """Split a console block into commands and their expected output."""
    commands: list[ConsoleCommand] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            commands.append(ConsoleCommand(line[2:], []))
        else:
            assert commands, f"console output before any `$ ` command: {line!r}"
            commands[-1].expected.append(line)
    return commands


def output_pattern(expected: list[str]) -> re.Pattern[str]:
    """A regex for the whole output: ``…`` alone is any lines, inside a line any text."""
    parts = []
    for line in expected:
        if line.strip() == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(r"[^\n]*?".join(map(re.escape, line.rstrip().split("…"))) + r"\n")
    return re.compile("".join(parts))


def normalised(output: str) -> str:
    """Output with trailing spaces and trailing blank lines removed, newline-terminated."""
    lines = [line.rstrip() for line in output.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "".join(f"{line}\n" for line in lines)


def shell_script(block: Block) -> tuple[str, bool]:
    """The bash script for a bash/sh block, and whether it starts ``nengli serve``."""
    lines = [
        "set -euo pipefail",
        "trap 'echo \"README command failed (exit $?): $BASH_COMMAND\" >&2' ERR",
    ]
    serves = False
    for line in block.text.splitlines():
        words = line.split()
        if words[:1] == ["make"]:
            target = words[1] if len(words) > 1 else ""
            assert target in SKIPPED_MAKE_TARGETS, (
                f"README.md:{block.line}: `make {target}` in a block: run it here or add it to "
                "SKIPPED_MAKE_TARGETS with the reason"
            )
            lines.append(f": not re-run: make {target}")
        elif words[:2] == ["nengli", "serve"]:
            command = line.split("  #", 1)[0].strip()
            lines.append(f"{command} >var/readme-serve.log 2>&1 &")
            serves = True
        else:
            lines.append(line)
    return "\n".join(lines) + "\n", serves


def console_script(commands: list[ConsoleCommand]) -> str:
    """One bash script running the commands in turn, each followed by an end marker."""
    parts = []
    for i, item in enumerate(commands):
        parts.append(
            f"{{\n{item.command}\n}} 2>&1; __rc=$?; printf '\\n\\036END {i} %d\\n' \"$__rc\"; "
            "(exit $__rc)"
        )
    return "\n".join(parts) + "\n"


def split_console_output(output: str) -> tuple[list[str], list[int]]:
    """Undo :func:`console_script`'s markers: each command's output and exit status."""
    pieces = re.split(r"\n?\x1eEND (\d+) (\d+)\n", output)
    return pieces[0::3], [int(code) for code in pieces[2::3]]


INLINE_COMMAND = re.compile(r"`(nengli [^`]+)`")
COMMAND_WORD = re.compile(r"[a-z][a-z-]*")


def inline_commands(markdown: str) -> dict[tuple[str, ...], set[str]]:
    """``nengli …`` code spans of the prose: command path → the ``--options`` they name.

    The path is the run of lower-case words after ``nengli`` (``assessment export``); a span may
    chain commands with ``&&`` and list alternatives with ``|`` (``--role school --school ID |
    --role teacher …``). Fenced blocks are left out: they are run instead.
    """
    prose = re.sub(r"^\s*```.*?^\s*```", "", markdown, flags=re.MULTILINE | re.DOTALL)
    commands: dict[tuple[str, ...], set[str]] = {}
    for span in INLINE_COMMAND.findall(prose):
        for part in span.split("&&"):
            words = part.split()
            if words[:1] != ["nengli"]:
                continue
            path: list[str] = []
            for word in words[1:]:
                if not COMMAND_WORD.fullmatch(word):
                    break
                path.append(word)
            options = {
                re.sub(r"=.*$", "", word.strip("[]"))
                for word in words
                if word.strip("[").startswith("--")
            }
            commands.setdefault(tuple(path), set()).update(options)
    return commands
