"""A pre-imported ``nengli`` for ``tests/test_readme.py``: the CLI's imports are paid once.

The README's blocks call ``nengli`` about twenty-five times; a fresh interpreter spends a few CPU
seconds importing the CLI each time, which alone would blow the test's budget. So the test puts a
``nengli`` on ``PATH`` that is a tiny client of this fork server:

* ``python tests/readme_forkserver.py serve SOCKET`` imports ``service.cli.main`` once and waits on
  a Unix socket;
* ``python -I -S tests/readme_forkserver.py client SOCKET ARGS…`` (the ``nengli`` shim) sends its
  argument list, environment and working directory with its stdin, stdout and stderr file
  descriptors (``SCM_RIGHTS``);
* the server forks; the child takes over those descriptors, that directory and that environment
  and runs the real entry point :func:`service.cli.main.main`; the client forwards SIGTERM, SIGINT
  and SIGHUP to the child and exits with the child's status (128 + N when a signal ended it), as
  the shell would see from a normal ``nengli``.

So a command still goes through the shell exactly as written (quoting, pipes, ``&``, ``$(…)``);
only process start-up is shared. ``NENGLI_README_FRESH_PROCESS=1`` makes the shim start a new
interpreter per command instead (``python -m service.cli``), to check the two agree.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import sys

#: Imported before forking. Only an optimisation: a command imports what it needs regardless.
PRELOAD = ("service.cli.main", "service.app", "recommender.bundle", "competency_model.province")
_LENGTH = struct.Struct("!Q")
_STATUS = struct.Struct("!q")


def _recv_exactly(connection: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = connection.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("fork server closed the connection")
        chunks += chunk
    return bytes(chunks)


def _run_child(
    connection: socket.socket, listener: socket.socket, request: dict, fds: list[int]
) -> None:
    """In the forked child: become the requested ``nengli`` process, run it, never return."""
    listener.close()
    connection.close()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = request["argv"]
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        from service.cli.main import main

        main()
        code = 0
    except SystemExit as exit_:
        if exit_.code is None:
            code = 0
        elif isinstance(exit_.code, int):
            code = exit_.code
        else:  # sys.exit("message"): printed and status 1, as the interpreter does
            print(exit_.code, file=sys.stderr)
            code = 1
    except BaseException:  # what an uncaught exception does in a normal interpreter
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    os._exit(code)


def _status_of(wait_status: int) -> int:
    if os.WIFSIGNALED(wait_status):
        return 128 + os.WTERMSIG(wait_status)
    return os.WEXITSTATUS(wait_status)


def serve(socket_path: str) -> None:
    """Preload the CLI, then fork one child per client until SIGTERM (which ends the children)."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(16)
    running: dict[int, socket.socket] = {}
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    while not stopping:
        try:
            readable, _, _ = select.select([listener], [], [], 0.05)
        except InterruptedError:
            continue
        if readable:
            connection, _ = listener.accept()
            header, fds, _flags, _address = socket.recv_fds(connection, _LENGTH.size, 3)
            (size,) = _LENGTH.unpack(header)
            request = json.loads(_recv_exactly(connection, size))
            pid = os.fork()
            if pid == 0:
                _run_child(connection, listener, request, fds)
            for fd in fds:
                os.close(fd)
            connection.sendall(_STATUS.pack(pid))
            running[pid] = connection
        while running:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            connection = running.pop(pid)
            try:
                connection.sendall(_STATUS.pack(_status_of(wait_status)))
            except OSError:
                pass  # the client was killed; nobody is waiting for the status
            connection.close()
    for pid in running:
        os.kill(pid, signal.SIGTERM)
    for pid in list(running):
        os.waitpid(pid, 0)
    listener.close()
    os.unlink(socket_path)


def client(socket_path: str, args: list[str]) -> int:
    """The ``nengli`` shim: run ``nengli ARGS`` in a child of the fork server; return its status."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(socket_path)
    payload = json.dumps(
        {"argv": ["nengli", *args], "env": dict(os.environ), "cwd": os.getcwd()}
    ).encode()
    socket.send_fds(connection, [_LENGTH.pack(len(payload))], [0, 1, 2])
    connection.sendall(payload)
    (child,) = _STATUS.unpack(_recv_exactly(connection, _STATUS.size))

    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    (status,) = _STATUS.unpack(_recv_exactly(connection, _STATUS.size))
    return int(status)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        sys.exit(client(sys.argv[2], sys.argv[3:]))
