"""A loopback TCP proxy that caps each connection's speed, as a long network
path does: one TCP connection across the internet rarely carries more than a
few tens of MB/s, whatever the two ends could do, while several connections
side by side each get about that much."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

#: Bytes moved at a time, so the cap is smooth.
_SLICE = 64 * 1024


def _pipe(source: socket.socket, sink: socket.socket, rate: float) -> None:
    """Copy ``source`` to ``sink`` at ``rate`` bytes per second at most."""
    started = time.perf_counter()
    sent = 0
    try:
        while data := source.recv(_SLICE):
            sink.sendall(data)
            sent += len(data)
            ahead = sent / rate - (time.perf_counter() - started)
            if ahead > 0:
                time.sleep(ahead)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def _serve(listener: socket.socket, target: tuple[str, int], rate: float) -> None:
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        upstream = socket.create_connection(target)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(
                target=_pipe, args=(source, sink, rate), daemon=True
            ).start()


@contextlib.contextmanager
def throttled(target_url: str, rate: float) -> Iterator[str]:
    """The URL of a proxy to ``target_url`` (``http://host:port``) that
    carries each connection at ``rate`` bytes per second at most, each way."""
    host, _, port = target_url.removeprefix("http://").rstrip("/").partition(":")
    listener = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(
        target=_serve, args=(listener, (host, int(port)), rate), daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
