"""A small threaded HTTP/1.1 proxy on the loopback interface that injects faults.

It sits between a client and a real server (here moto's S3 server) and
forwards each request unchanged, unless a rule matches it. Rules answer with
an error status, drop or reset the connection, delay the request, or let
the server apply it and then lose the reply, the fault that matters most for
"exactly once" writes.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

ACTIONS = ("status", "drop", "reset", "delay", "lose", "stall")


@dataclass
class Request:
    """The head of a request the proxy received."""

    method: str
    target: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urlsplit(self.target).query


@dataclass
class Rule:
    """What to do with the next ``times`` requests that ``match``."""

    match: Callable[[Request], bool]
    action: str
    times: int = 1
    status: int = 503
    code: str = "SlowDown"
    seconds: float = 0.0
    hits: int = 0

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"Unknown action {self.action!r}; one of {ACTIONS}.")


@dataclass
class FaultProxy:
    """Forward ``127.0.0.1:<port>`` to ``upstream`` (``http://host:port``)."""

    upstream: str
    rules: list[Rule] = field(default_factory=list)
    #: Every request seen, as (method, target, what was done).
    log: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._closing = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.getsockname()[:2]
        return f"http://{host}:{port}"

    def add(
        self, match: Callable[[Request], bool], action: str, **options: object
    ) -> Rule:
        rule = Rule(match, action, **options)  # type: ignore[arg-type]
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def close(self) -> None:
        self._closing = True
        # Wakes the thread blocked in accept(); close() alone does not.
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._thread.join(timeout=5)

    def count(self, method: str, contains: str = "", action: str | None = None) -> int:
        """How many requests of ``method`` whose target contains ``contains``."""
        with self._lock:
            return sum(
                1
                for m, target, done in self.log
                if m == method and contains in target and action in (None, done)
            )

    # -- plumbing ---------------------------------------------------------

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _rule_for(self, request: Request) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.hits < rule.times and rule.match(request):
                    rule.hits += 1
                    return rule
        return None

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        reader = client.makefile("rb")
        try:
            while True:
                head = _read_head(reader)
                if head is None:
                    return
                request = _parse_request(head)
                rule = self._rule_for(request)
                action = rule.action if rule else "forward"
                with self._lock:
                    self.log.append((request.method, request.target, action))
                if action == "drop":
                    return
                if action == "reset":
                    _reset(client)
                    return
                if request.headers.get("expect", "").lower() == "100-continue":
                    client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = _read_body(reader, request.headers)
                if rule is not None and action == "status":
                    error = _error(rule.status, rule.code)
                    if request.method == "HEAD":  # a head, never a body
                        error = error.partition(b"\r\n\r\n")[0] + b"\r\n\r\n"
                    client.sendall(error)
                    continue
                if rule is not None and action in ("delay", "stall"):
                    time.sleep(rule.seconds)
                    if action == "stall":
                        return
                if upstream is None:
                    upstream = socket.create_connection(self._upstream)
                    upstream_reader = upstream.makefile("rb")
                upstream.sendall(head + body)
                response, keep_alive = _read_response(upstream_reader, request.method)
                if not keep_alive:
                    upstream.close()
                    upstream = None
                if action == "lose":
                    # The server applied the request; its reply never arrives.
                    _reset(client)
                    return
                client.sendall(response)
                if not keep_alive:
                    return  # the reply ends when the connection does
        except OSError:
            return
        finally:
            reader.close()
            client.close()
            if upstream is not None:
                upstream.close()


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset rather than a clean shutdown."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _read_head(reader: object) -> bytes | None:
    lines = []
    while True:
        line = reader.readline(65537)  # type: ignore[attr-defined]
        if not line:
            return None
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            return b"".join(lines)


def _headers(head: bytes) -> dict[str, str]:
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _parse_request(head: bytes) -> Request:
    method, target, _ = head.decode("latin-1").split("\r\n", 1)[0].split(" ", 2)
    return Request(method, target, _headers(head))


def _read_body(reader: object, headers: dict[str, str]) -> bytes:
    read = reader.read  # type: ignore[attr-defined]
    readline = reader.readline  # type: ignore[attr-defined]
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = []
        while True:
            size_line = readline(65537)
            chunks.append(size_line)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then an empty line
                    trailer = readline(65537)
                    chunks.append(trailer)
                    if trailer in (b"\r\n", b"\n", b""):
                        return b"".join(chunks)
            chunks.append(read(size + 2))
    length = int(headers.get("content-length", "0") or 0)
    return bytes(read(length)) if length else b""


def _read_response(reader: object, method: str) -> tuple[bytes, bool]:
    """The whole response, and whether the server keeps the connection open."""
    while True:
        head = _read_head(reader)
        if head is None:
            raise ConnectionError("the server closed the connection")
        status = int(head.split(b" ", 2)[1])
        if status >= 200:
            break  # 1xx answers are the server's own; the proxy sent its own
    headers = _headers(head)
    keep_alive = head.startswith(b"HTTP/1.1") and (
        headers.get("connection", "").lower() != "close"
    )
    if method == "HEAD" or status in (204, 304):
        return head, keep_alive
    if "content-length" in headers or "chunked" in headers.get("transfer-encoding", ""):
        return head + _read_body(reader, headers), keep_alive
    return head + reader.read(), False  # type: ignore[attr-defined]


def _error(status: int, code: str) -> bytes:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>Injected by the fault proxy</Message>"
        "</Error>"
    ).encode()
    return (
        f"HTTP/1.1 {status} Injected\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
