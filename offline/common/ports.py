"""Ports on loopback: a free one for a test or a benchmark, and a clear refusal when the one
asked for is taken."""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


class PortTaken(Exception):
    """A port asked for is in use; the message names it and what it was for."""


def ensure_free(port: int, what: str) -> None:
    """Fail at once, naming the port, rather than half-start on a taken one."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            raise PortTaken(
                f"port {port} on {HOST} is taken ({what}); free it or choose another"
            ) from None


def free_ports(count: int) -> list[int]:
    """Ports the kernel hands out on loopback, all held at once so that they differ."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
