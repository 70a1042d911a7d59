"""`wallguard webhooks listen`: a local receiver for the webhooks Wallguard sends (like
`stripe listen`), for agencies trying the API on `wallguard dev`."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Outbound webhooks Wallguard sends.", no_args_is_help=True)


@app.command("listen")
def listen(
    secret: Annotated[
        list[str],
        typer.Option(
            envvar="WALLGUARD_WEBHOOK_SECRET",
            help="The endpoint's signing secret (whsec_...); repeat during a rotation.",
        ),
    ],
    port: Annotated[int, typer.Option(help="TCP port (0: a free one).")] = 8787,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    as_json: Annotated[bool, typer.Option("--json", help="Print each body as JSON.")] = False,
) -> None:
    """A local receiver: verifies each request with standardwebhooks and prints the events."""
    import threading

    from service.webhooks.receiver import Received, WebhookListener, describe

    if not all(s.startswith("whsec_") for s in secret):
        raise typer.BadParameter("a secret starts with whsec_", param_hint="--secret")
    lock = threading.Lock()

    def show(received: Received) -> None:
        line = describe(received)
        if as_json and received.event is not None:
            line = received.body.decode()
        with lock:
            typer.echo(line)

    listener = WebhookListener(
        secrets=secret, host=host, port=port, on_event=show, keep_received=False
    )
    try:
        listener.start()
    except OSError as exc:
        raise typer.BadParameter(f"cannot listen on {host}:{port}: {exc}") from None
    typer.echo(f"listening on {listener.url} (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
