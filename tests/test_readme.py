"""README.md works as written: every command block runs against a demo directory.

The README's conventions, enforced here:

* ```` ```bash ```` / ```` ```sh ```` blocks run in ``bash`` with ``set -euo pipefail``: every
  command must exit 0.
* ```` ```console ```` blocks: a ``$ `` line is a command, the lines after it its output (stdout
  and stderr, as a terminal shows them), matched in full; ``…`` on a line of its own stands for
  any lines, inside a line for any text. A command must exit 0 unless the next command is
  ``echo $?``, whose output then pins the status.
* Blocks run in README order from a directory laid out like the repository (its entries linked)
  after ``make demo``: ``var/demo/province``, ``var/demo/nengli.sqlite``, ``var/demo/model``. The
  demo is built once by the command the Makefile's ``demo`` recipe runs, on a small province.
* ``make`` lines are the README's entry points and are not re-run (:data:`SKIPPED_MAKE_TARGETS`
  says why); any other ``make`` target in a block fails the test.
* ``nengli serve`` starts a real server in the background; ``127.0.0.1:8000`` in every command
  is rewritten to a free port (``NENGLI_PORT``), so the test never collides with a real demo.
* ``nengli`` is the repository's CLI, served by a fork server that has already imported it
  (``tests/readme_forkserver.py``), so twenty-odd commands cost seconds, not minutes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.readme_blocks import (
    COMMAND_LANGUAGES,
    README_PORT,
    SKIPPED_MAKE_TARGETS,
    Block,
    console_script,
    inline_commands,
    normalised,
    output_pattern,
    parse_blocks,
    parse_console,
    shell_script,
    split_console_output,
)

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
FORKSERVER = Path(__file__).resolve().parent / "readme_forkserver.py"
#: ``make demo`` at a size the test can afford (the Makefile's default is 3000 teachers).
DEMO_TEACHERS, DEMO_SCHOOLS = 60, 2
#: What the Makefile's demo recipe must say for the fixture to build what ``make demo`` builds.
DEMO_RECIPE = (
    "$(PY) -m service.demo --dir $(DEMO_DIR) --teachers $(DEMO_TEACHERS) --schools $(DEMO_SCHOOLS)"
)

BLOCKS = parse_blocks(README.read_text(encoding="utf-8"))
COMMAND_BLOCKS = [b for b in BLOCKS if b.language in COMMAND_LANGUAGES]


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*):", text, flags=re.MULTILINE))


@dataclass
class Walkthrough:
    """The demo directory, the environment blocks run in, and the servers they started."""

    root: Path
    env: dict[str, str]
    port: int
    demo_output: str
    server_groups: list[int] = field(default_factory=list)

    def localise(self, text: str) -> str:
        return text.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{self.port}")

    def bash(self, script: str, *, background: bool = False) -> subprocess.CompletedProcess[str]:
        """Run ``script`` in bash from the demo root (own session, so a server can be stopped)."""
        process = subprocess.Popen(
            ["bash", "-c", script],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        if background:
            self.server_groups.append(process.pid)
        output, _ = process.communicate(timeout=600)
        return subprocess.CompletedProcess(process.args, process.returncode, output)

    def wait_for_server(self) -> None:
        """Until ``/healthz`` answers; fail with the server log if it died first."""
        log = self.root / "var" / "readme-serve.log"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5):
                    return
            except (urllib.error.URLError, OSError):
                if not any(_group_alive(group) for group in self.server_groups):
                    pytest.fail(f"nengli serve exited:\n{log.read_text() if log.exists() else ''}")
                time.sleep(0.5)
        pytest.fail(f"nengli serve did not answer within 240 s:\n{log.read_text()}")

    def ensure_server(self) -> None:
        """A block that talks to the server needs one: reuse the README's, else start it."""
        if not any(_group_alive(group) for group in self.server_groups):
            self.bash(
                "NENGLI_DATABASE_URL=sqlite:///var/demo/nengli.sqlite NENGLI_MODEL_DIR=var/demo/model "
                "nengli serve >var/readme-serve.log 2>&1 &",
                background=True,
            )
        self.wait_for_server()

    def stop_servers(self) -> None:
        for group in self.server_groups:
            _signal_group(group, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while any(map(_group_alive, self.server_groups)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for group in self.server_groups:
            _signal_group(group, signal.SIGKILL)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _base_env() -> dict[str, str]:
    """The caller's environment without any ``NENGLI_`` setting, so README defaults apply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NENGLI_")}
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    return env


@pytest.fixture(scope="module")
def nengli_bin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory whose ``nengli`` runs this checkout's CLI (through the fork server)."""
    bin_dir = tmp_path_factory.mktemp("readme_bin")
    shim = bin_dir / "nengli"
    if os.environ.get("NENGLI_README_FRESH_PROCESS") == "1":
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m service.cli "$@"\n')
        shim.chmod(0o755)
        yield bin_dir
        return
    sock = bin_dir / "nengli.sock"
    server = subprocess.Popen(
        [sys.executable, str(FORKSERVER), "serve", str(sock)],
        env=_base_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready", "the nengli fork server did not start"
        shim.write_text(
            f'#!/bin/sh\nexec "{sys.executable}" -I -S "{FORKSERVER}" client "{sock}" "$@"\n'
        )
        shim.chmod(0o755)
        yield bin_dir
    finally:
        server.terminate()
        server.wait(timeout=60)


@pytest.fixture(scope="module")
def walkthrough(
    tmp_path_factory: pytest.TempPathFactory, nengli_bin: Path
) -> Iterator[Walkthrough]:
    """A directory laid out like the repository after ``make demo`` (small province)."""
    root = tmp_path_factory.mktemp("readme_root")
    for entry in REPO.iterdir():
        if not entry.name.startswith(".") and entry.name not in {"var", "__pycache__"}:
            (root / entry.name).symlink_to(entry)
    (root / "var").mkdir()
    env = _base_env()
    port = _free_port()
    env.update(PATH=f"{nengli_bin}{os.pathsep}{env['PATH']}", NENGLI_PORT=str(port))
    demo = subprocess.run(
        [sys.executable, "-m", "service.demo", "--dir", "var/demo", "--teachers",
         str(DEMO_TEACHERS), "--schools", str(DEMO_SCHOOLS), "--no-serve"],
        cwd=root, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout + demo.stderr
    for part in ("province/province.json", "nengli.sqlite", "model/metadata.json"):
        assert (root / "var" / "demo" / part).is_file(), part
    state = Walkthrough(root, env, port, demo.stdout)
    try:
        yield state
    finally:
        state.stop_servers()


def check_console(walkthrough: Walkthrough, block: Block) -> None:
    commands = parse_console(block.text)
    assert commands, f"README.md:{block.line}: console block without a `$ ` command"
    result = walkthrough.bash(walkthrough.localise(console_script(commands)))
    outputs, codes = split_console_output(result.stdout)
    assert len(codes) == len(commands), (
        f"README.md:{block.line}: bash stopped early:\n{result.stdout}"
    )
    for i, item in enumerate(commands):
        where = f"README.md:{block.line}: `$ {item.command}`"
        pinned = i + 1 < len(commands) and commands[i + 1].command.strip() == "echo $?"
        if item.command.strip() != "echo $?" and not pinned:
            assert codes[i] == 0, f"{where} exited {codes[i]}:\n{outputs[i]}"
        actual = normalised(outputs[i])
        assert output_pattern(item.expected).fullmatch(actual), (
            f"{where} printed something else.\n--- README ---\n"
            + "\n".join(item.expected)
            + f"\n--- actual ---\n{actual}"
        )


def check_shell(walkthrough: Walkthrough, block: Block) -> None:
    script, serves = shell_script(block)
    if f"127.0.0.1:{README_PORT}" in block.text and not serves:
        walkthrough.ensure_server()
    result = walkthrough.bash(walkthrough.localise(script), background=serves)
    assert result.returncode == 0, f"README.md:{block.line} failed:\n{result.stdout}"
    if serves:
        walkthrough.wait_for_server()
        for path in ("/docs", "/ui/"):  # what the serve line's comment promises
            url = f"http://127.0.0.1:{walkthrough.port}{path}"
            with urllib.request.urlopen(url, timeout=30) as answer:
                assert answer.status == 200, path


@pytest.mark.slow
@pytest.mark.parametrize("block", COMMAND_BLOCKS, ids=[f"L{b.line}" for b in COMMAND_BLOCKS])
def test_block_runs_as_written(walkthrough: Walkthrough, block: Block) -> None:
    """Each command block, in README order, against the demo directory."""
    if block.language == "console":
        check_console(walkthrough, block)
    else:
        check_shell(walkthrough, block)


@pytest.mark.slow
def test_demo_examples_answer_over_http(walkthrough: Walkthrough) -> None:
    """The three curl commands ``make demo`` prints answer 200 with JSON from a real server."""
    walkthrough.ensure_server()
    printed = [line.strip() for line in walkthrough.demo_output.splitlines()]
    commands = [line for line in printed if line.startswith("curl ")]
    assert len(commands) == 3, walkthrough.demo_output
    for command in commands:
        result = walkthrough.bash("set -o pipefail\n" + walkthrough.localise(command))
        assert result.returncode == 0, f"{command}\n{result.stdout}"
        body = json.loads(result.stdout)
        assert not (isinstance(body, dict) and {"title", "status"} <= body.keys()), body


@pytest.mark.slow
def test_inline_commands_name_real_commands_and_options(walkthrough: Walkthrough) -> None:
    """The prose's ``nengli …`` spans (not run: some train for minutes) name real options."""
    commands = inline_commands(README.read_text(encoding="utf-8"))
    assert len(commands) >= 10
    for path, options in commands.items():
        command = " ".join(["nengli", *path])
        result = walkthrough.bash(f"COLUMNS=200 {command} --help")
        assert result.returncode == 0, f"README.md names `{command}`:\n{result.stdout}"
        shown = set(re.findall(r"(?<![\w-])--[a-z][\w-]*", result.stdout))
        unknown = sorted(options - shown)
        assert not unknown, f"README.md: `{command}` has no option {unknown}"


def test_readme_starts_with_make_demo_and_make_test() -> None:
    first = BLOCKS[0]
    assert first.language == "bash"
    assert [line.split()[:2] for line in first.text.splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]


def test_every_command_block_is_labelled_and_run() -> None:
    """A block that shows a command but has no bash/sh/console label would silently go untested."""
    for block in BLOCKS:
        first = block.text.lstrip().split(maxsplit=1)[:1]
        if first and first[0] in {"$", "nengli", "make", "curl", "export"}:
            assert block.language in COMMAND_LANGUAGES, f"README.md:{block.line}: label it"
    assert len(COMMAND_BLOCKS) >= 10


def test_skipped_make_targets_are_real_and_the_demo_fixture_matches_the_recipe() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert set(SKIPPED_MAKE_TARGETS) <= makefile_targets()
    recipe = re.search(r"^demo:.*\n\t(?P<command>.+)$", makefile, flags=re.MULTILINE)
    assert recipe is not None and recipe["command"].strip() == DEMO_RECIPE
    assert re.search(r"^DEMO_DIR \?= var/demo$", makefile, flags=re.MULTILINE)


@pytest.mark.parametrize(
    ("expected", "output", "matches"),
    [
        (["a", "…", "z"], "a\nb\nc\nz\n", True),
        (["a", "…", "z"], "a\nz\n", True),
        (["a", "z"], "a\nb\nz\n", False),
        (["error: teacher 'X' (…teachers)"], "error: teacher 'X' (60 teachers)\n", True),
        (["1"], "2\n", False),
        (["ok", "…"], "ok\nmore\n", True),
        (["ok"], "ok\nmore\n", False),
    ],
)
def test_output_pattern(expected: list[str], output: str, matches: bool) -> None:
    assert bool(output_pattern(expected).fullmatch(normalised(output))) is matches


def test_inline_commands_reads_paths_options_and_chains() -> None:
    markdown = (
        "Run `nengli keys create --role platform --region 江苏 |\n--role school --school ID` or\n"
        "`nengli generate … && nengli path T1 --policy jiangsu [--json]`.\n"
        "```bash\nnengli serve --ignored\n```\n"
    )
    assert inline_commands(markdown) == {
        ("keys", "create"): {"--role", "--region", "--school"},
        ("generate",): set(),
        ("path",): {"--policy", "--json"},
    }
