"""Following a scan from the command line: `wallguard scans start --connection ID --wait` and
`wallguard scans watch ID` poll `GET /v1/scans/{id}` and draw a live progress line until the scan
ends (or, with ``stop_when_waiting``, until it has to wait for the platform or a user)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import msgspec
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from service.scanning.models import ScanStatus
from service.scanning.schemas import Scan

FINISHED = frozenset({ScanStatus.COMPLETED, ScanStatus.CANCELLED, ScanStatus.FAILED})


class ScanApiError(Exception):
    """The API refused a request; ``detail`` is its problem detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


def _client(api_url: str, api_key: str, timeout: float = 15.0) -> httpx.Client:
    return httpx.Client(
        base_url=api_url.rstrip("/"),
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=timeout,
    )


def _decode(response: httpx.Response) -> Scan:
    if response.status_code >= 400:
        try:
            detail = str(response.json().get("detail", response.text))
        except ValueError:
            detail = response.text
        raise ScanApiError(response.status_code, detail)
    return msgspec.json.decode(response.content, type=Scan)


def start_scan(
    api_url: str,
    api_key: str,
    connection_id: uuid.UUID,
    *,
    since: str | None = None,
    until: str | None = None,
    http: httpx.Client | None = None,
) -> Scan:
    body: dict[str, str] = {"connection_id": str(connection_id)}
    if since:
        body["since"] = since
    if until:
        body["until"] = until
    client = http or _client(api_url, api_key)
    try:
        return _decode(client.post("/v1/scans", json=body))
    finally:
        if http is None:
            client.close()


def describe(scan: Scan) -> str:
    rate = f"{scan.rate:,.0f}/s" if scan.rate else "-"
    text = (
        f"[bold]{scan.status.value}[/bold]  posts {scan.posts_scanned:,}  "
        f"comments {scan.comments_scanned:,} ({rate})  findings {scan.findings:,}  "
        f"hidden {scan.hidden:,}  errors {scan.errors:,}"
    )
    if scan.status is ScanStatus.WAITING and scan.last_error:
        text += f"\n  [yellow]{scan.last_error}[/yellow]"
    return text


def watch_scan(
    api_url: str,
    api_key: str,
    scan_id: uuid.UUID,
    *,
    interval: float = 1.0,
    stop_when_waiting: bool = False,
    console: Console | None = None,
    http: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Scan:
    """Poll the scan and show its progress until it ends; returns its last state."""
    console = console or Console(stderr=True)
    client = http or _client(api_url, api_key)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("scan {task.fields[scan_id]}"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    try:
        with progress:
            task = progress.add_task("starting", total=None, scan_id=str(scan_id)[:8])
            while True:
                scan = _decode(client.get(f"/v1/scans/{scan_id}"))
                progress.update(task, description=describe(scan))
                if scan.status in FINISHED or (
                    stop_when_waiting and scan.status is ScanStatus.WAITING
                ):
                    progress.update(task, total=1, completed=1)
                    break
                sleep(interval)
    finally:
        if http is None:
            client.close()
    if scan.status is ScanStatus.FAILED and scan.last_error:
        console.print(f"[red]failed:[/red] {scan.last_error}")
    return scan


def exit_code(scan: Scan) -> int:
    """0 completed, 1 failed, 2 cancelled, 3 still waiting (for `--wait` in scripts)."""
    return {
        ScanStatus.COMPLETED: 0,
        ScanStatus.FAILED: 1,
        ScanStatus.CANCELLED: 2,
    }.get(scan.status, 3)
