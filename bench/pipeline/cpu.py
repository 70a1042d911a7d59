"""CPU seconds spent by the processes of a pipeline run, read from ``/proc`` (Linux).

Latency on a shared two-core machine moves with whatever else runs; the CPU a process spends per
comment moves much less. ``CpuMeter`` reads each process's user + system time before and after
the load, and Postgres's backends serving the run's database (found by database name in
``pg_stat_activity``), so a run reports milliseconds of CPU per comment for the API, the
workers, Postgres and the instrument (sandbox and generator) separately.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import asyncpg

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far; 0.0 when it is gone or unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


async def backend_pids(admin_dsn: str, database: str) -> list[int]:
    conn = await asyncpg.connect(admin_dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


class CpuMeter:
    """CPU seconds per named group of processes between ``start`` and ``stop``."""

    def __init__(self) -> None:
        self._start: dict[int, float] = {}
        self._stop: dict[int, float] = {}
        self._groups: dict[str, set[int]] = {}

    def start(self, groups: Mapping[str, Iterable[int]]) -> None:
        for name, pids in groups.items():
            for pid in pids:
                self._groups.setdefault(name, set()).add(pid)
                self._start.setdefault(pid, cpu_seconds(pid))

    def add(self, name: str, pids: Iterable[int]) -> None:
        """Processes that started during the run (Postgres backends opened under load): counted
        from zero, a slight overcount of their connection set-up."""
        for pid in pids:
            if pid not in self._start:
                self._groups.setdefault(name, set()).add(pid)
                self._start[pid] = 0.0

    def stop(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for name, pids in self._groups.items():
            total = 0.0
            for pid in pids:
                now = cpu_seconds(pid)
                if now:
                    total += max(0.0, now - self._start[pid])
            used[name] = round(total, 3)
        return used
