"""A small asyncio HTTP/1.1 server: several origins, one loopback port each.

Used by `scrapy demo`, the tests and the benchmarks. A *site* is a module with `ORIGINS` (a list
of origin names) and `build(addresses)`, which gets the base URL of every origin and returns, per
origin, a function from a request path to a `Reply`:

    python -m crawler.demo.server crawler.demo.site [--log FILE]

binds every origin to port 0 on 127.0.0.1, prints one JSON line `{"origins": {name: url}}` and
serves until it is terminated (or, with `--stop-on-stdin-eof`, until its stdin closes). With `--log`, each request is
appended to FILE as a JSON line `{"origin", "method", "path", "t"}` (t: monotonic seconds), so tests can prove what was
(not) requested.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import ModuleType
from typing import TextIO

MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Reply:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)
    body: bytes = b""
    raw: bytes | None = None  # sent as is, instead of status/headers/body (malformed replies)
    delay: float = 0.0  # seconds to wait before answering (slow servers)
    drip: float = 0.0  # seconds between 16-byte pieces of the body (slow-drip servers)

    def encode(self, keep_alive: bool) -> bytes:
        if self.raw is not None:
            return self.raw
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [f"HTTP/1.1 {self.status} {phrase}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        lines.append(f"Content-Length: {len(self.body)}")
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


NOT_FOUND = Reply(404, (("Content-Type", "text/plain"),), b"not found\n")

Handler = Callable[[str], Reply]  # path (with query) -> reply
# A handler with `wants_headers = True` is called with the request headers too (lower-case names).
CONDITIONAL_HEADERS = ("if-none-match", "if-modified-since")  # logged when a request has them
# Credentials are logged too, so tests can prove from the server's side that none were sent.
LOGGED_HEADERS = (*CONDITIONAL_HEADERS, "authorization", "proxy-authorization", "cookie")


def html(body: str, *, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(
        status, (("Content-Type", "text/html; charset=utf-8"), *headers), body.encode("utf-8")
    )


def text(body: str, *, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(
        status, (("Content-Type", "text/plain; charset=utf-8"), *headers), body.encode("utf-8")
    )


def routes(table: dict[str, Reply]) -> Handler:
    """A handler from a fixed table of paths (the query string is part of the path)."""
    return lambda path: table.get(path, NOT_FOUND)


@dataclass
class _Origin:
    name: str
    handler: Handler | None = None
    server: asyncio.Server | None = None
    log: TextIO | None = field(default=None, repr=False)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                parts = request_line.split(" ")
                if len(parts) != 3:
                    return
                method, path, _ = parts
                headers = {}
                for line in header_lines:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await reader.readexactly(length)
                if self.log is not None:
                    entry = {
                        "origin": self.name,
                        "method": method,
                        "path": path,
                        "t": time.monotonic(),
                    }
                    for name in LOGGED_HEADERS:
                        if name in headers:
                            entry[name] = headers[name]
                    self.log.write(json.dumps(entry) + "\n")
                    self.log.flush()
                assert self.handler is not None
                try:
                    if getattr(self.handler, "wants_headers", False):
                        reply = self.handler(path, headers)  # type: ignore[call-arg]
                    else:
                        reply = self.handler(path)
                except Exception as exc:  # noqa: BLE001 - a broken route answers 500, visibly
                    reply = Reply(500, (("Content-Type", "text/plain"),), f"{exc!r}\n".encode())
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                keep_alive = headers.get("connection", "").lower() != "close" and reply.raw is None
                if reply.drip:
                    await self.drip(writer, reply, keep_alive)
                else:
                    writer.write(reply.encode(keep_alive))
                    await writer.drain()
                if not keep_alive:
                    return
        finally:
            writer.close()

    @staticmethod
    async def drip(writer: asyncio.StreamWriter, reply: Reply, keep_alive: bool) -> None:
        data = reply.encode(keep_alive)
        head_end = data.index(b"\r\n\r\n") + 4 if reply.raw is None else 0
        writer.write(data[:head_end])
        for start in range(head_end, len(data), 16):
            await writer.drain()
            await asyncio.sleep(reply.drip)
            writer.write(data[start : start + 16])
        await writer.drain()


async def serve(
    site: ModuleType,
    log_path: str | None = None,
    announce: TextIO = sys.stdout,
    stop_on_stdin_eof: bool = False,
) -> None:
    log = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
    # Bind first: handlers need every origin's address to write cross-origin links.
    origins = {name: _Origin(name, log=log) for name in site.ORIGINS}
    addresses = {}
    for name, origin in origins.items():
        origin.server = await asyncio.start_server(
            origin.handle, "127.0.0.1", 0, limit=MAX_HEADER_BYTES
        )
        port = origin.server.sockets[0].getsockname()[1]
        addresses[name] = f"http://127.0.0.1:{port}"
    for name, handler in site.build(addresses).items():
        origins[name].handler = handler
    announce.write(json.dumps({"origins": addresses}) + "\n")
    announce.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if stop_on_stdin_eof:  # a parent that closes our stdin (or dies) stops us
        watcher = loop.run_in_executor(None, sys.stdin.buffer.read)
        watcher.add_done_callback(lambda _: stop.set())
    await stop.wait()
    for origin in origins.values():
        assert origin.server is not None
        origin.server.close()
    if log:
        log.close()


class SiteProcess:
    """A site served by this module in a subprocess; its origins' base URLs in `origins`.

    Stops when `stop()` is called or the parent exits (its stdin closes).
    """

    def __init__(self, module: str, *, log_path: str | os.PathLike[str] | None = None, cwd=None):
        command = [sys.executable, "-m", "crawler.demo.server", module, "--stop-on-stdin-eof"]
        if log_path:
            command += ["--log", str(log_path)]
        self.log_path = log_path
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"The site {module} did not start")
        self.origins: dict[str, str] = json.loads(line)["origins"]

    def requests(self) -> list[dict[str, str]]:
        """Every request received so far (needs `log_path`)."""
        if not self.log_path or not os.path.exists(self.log_path):
            return []
        with open(self.log_path, encoding="utf-8") as log:
            return [json.loads(line) for line in log if line.strip()]

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> SiteProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", help="module with ORIGINS and build(addresses)")
    parser.add_argument("--log", help="append one JSON line per request to this file")
    parser.add_argument("--stop-on-stdin-eof", action="store_true", help="exit when stdin closes")
    args = parser.parse_args(argv)
    site = importlib.import_module(args.site)
    asyncio.run(serve(site, log_path=args.log, stop_on_stdin_eof=args.stop_on_stdin_eof))


if __name__ == "__main__":
    main()
