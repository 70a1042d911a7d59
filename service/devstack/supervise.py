"""Child processes of `wallguard dev`: start them, prefix their output, notice one dying, stop all.

Each child gets its own session, so a Ctrl-C in the terminal reaches only `wallguard dev`, which
then stops the children in order (and the servers after them) instead of everything at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from rich.console import Console
from rich.text import Text

_STYLES = ("cyan", "magenta", "green", "yellow", "blue")


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a child is sent SIGTERM if `wallguard dev` itself is killed (SIGKILL, OOM), so
    no API or worker outlives it holding a port."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)  # loaded here: nothing to import after fork
    pr_set_pdeathsig = 1

    def preexec() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return preexec


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    pump: threading.Thread = field(repr=False)


class Supervisor:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.children: list[Child] = []
        self._width = 8

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
        assert process.stdout is not None
        style = _STYLES[len(self.children) % len(_STYLES)]
        pump = threading.Thread(
            target=self._pump, args=(name, style, process.stdout), name=f"out-{name}", daemon=True
        )
        self.children.append(Child(name, process, pump))
        pump.start()

    def _pump(self, name: str, style: str, stream: IO[bytes]) -> None:
        prefix = Text(f"{name:<{self._width}}| ", style=style)
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            self.console.print(prefix + Text(line), soft_wrap=True, highlight=False)

    def exited(self) -> Child | None:
        """A child that is no longer running, if any."""
        return next((c for c in self.children if c.process.poll() is not None), None)

    def wait(self, poll_seconds: float = 0.2) -> Child:
        """Block until a child exits (a signal interrupts this with KeyboardInterrupt)."""
        while (child := self.exited()) is None:
            time.sleep(poll_seconds)
        return child

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to every child's process group, SIGKILL to what is left after `timeout`."""
        for child in self.children:
            if child.process.poll() is None:
                _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.console.print(f"{child.name} did not stop in time: killing it", style="yellow")
                # The group is only signalled while its leader is unreaped, so its id is still
                # ours; that also reaches anything the child started in its session.
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
            child.pump.join(timeout=2)
            assert child.process.stdout is not None
            child.process.stdout.close()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)
