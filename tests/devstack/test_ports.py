"""The free-port check of `wallguard dev` right after a stop (connections in TIME_WAIT)."""

from __future__ import annotations

import socket

from service.devstack.run import _port_free


def _server_closed_first() -> int:
    """A port whose server answered a connection and closed it first, as an API does when it
    stops: the connection lingers in TIME_WAIT on the server's port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port: int = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the server closes first: its side goes to TIME_WAIT
    client.recv(1)  # the client sees the end ...
    client.close()  # ... and closes too
    listener.close()
    return port


def test_a_port_with_connections_in_time_wait_counts_as_free() -> None:
    port = _server_closed_first()
    # Without SO_REUSEADDR this bind fails for a minute (EADDRINUSE).
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        try:
            plain.bind(("127.0.0.1", port))
            lingering = False
        except OSError:
            lingering = True
    finally:
        plain.close()
    assert lingering, "the test setup must leave a connection in TIME_WAIT"
    assert _port_free(port)


def test_a_port_someone_listens_on_is_not_free() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not _port_free(listener.getsockname()[1])
