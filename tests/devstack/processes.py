"""Looking for the processes `wallguard dev` and its embedded servers start."""

from __future__ import annotations

import shutil
from pathlib import Path

import psutil

from service.devstack.embedded import postgres_data_dir


def gone(pid: int) -> bool:
    """The process has exited (a zombie counts: where PID 1 does not reap, an exited daemon
    stays one)."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])


def processes_mentioning(*paths: Path) -> list[str]:
    """Live processes whose command line names one of `paths` (or a file below one)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.info["status"] != psutil.STATUS_ZOMBIE and any(str(p) in cmdline for p in paths):
            found.append(cmdline)
    return found


def remove_private_dirs(state: Path) -> None:
    """As root with a state dir the server user cannot reach (pytest's tmp_path is 0700), the
    data lives in a private dir under the temp dir instead: remove that too."""
    data_dir = postgres_data_dir(state)
    if not data_dir.is_relative_to(state.resolve()):
        shutil.rmtree(data_dir.parent, ignore_errors=True)
