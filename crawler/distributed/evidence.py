"""Evidence's part of the shared state: the first worker to need an origin's policy documents
fetches them under a lock and stores them in Redis for POLICY_CACHE_SECONDS; the others replay
them through the same parsing code, so their decisions cite the same WARC records."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

from crawler.distributed.part import POLL_SECONDS, Script, StatePart
from policies.origin import PolicyDocument

_RENEW_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

Fetch = Callable[..., Awaitable[tuple[PolicyDocument, str | None]]]


class Evidence(StatePart):
    """An origin's evidence, fetched once for all workers."""

    evidence_seconds: float

    _renew_lock = Script(_RENEW_LOCK)
    _release_lock = Script(_RELEASE_LOCK)

    async def evidence(
        self, origin: str, build: Callable[[Fetch], Awaitable[Any]], fetch: Fetch
    ) -> tuple[Any, float]:
        """`build(fetch)` reads an origin's documents through `fetch`: run it once for all
        workers with the real fetch, and replay the recorded documents everywhere else.

        Returns the evidence and how many seconds it may still be used: a replayed copy is as
        old as the first fetch (RFC 9309 §2.4: at most 24 hours in all)."""
        key, lock = self.key("evidence", origin), self.key("evidence-lock", origin)
        while True:
            with self.redis.pipeline(transaction=True) as pipe:
                stored, ttl_ms = pipe.get(key).pttl(key).execute()
            if stored is not None and ttl_ms != 0:
                evidence = await build(_replay(json.loads(stored), fetch))
                return evidence, (ttl_ms / 1000 if ttl_ms > 0 else self.evidence_seconds)
            # The lock lasts one worker timeout, renewed while its holder fetches: if the holder
            # dies, another worker takes over as soon as it would take over its requests.
            if self.redis.set(lock, self.worker, nx=True, px=self.worker_ms):
                keeper = asyncio.ensure_future(self._hold(lock))
                try:
                    recorded: list[dict] = []
                    evidence = await build(_recording(fetch, recorded))
                    ttl_ms = max(1, int(self.evidence_seconds * 1000))
                    self.redis.set(key, json.dumps(recorded), px=ttl_ms)
                    return evidence, self.evidence_seconds
                finally:
                    keeper.cancel()
                    self._release_lock(keys=[lock], args=[self.worker])
            await asyncio.sleep(POLL_SECONDS)

    async def _hold(self, lock: str) -> None:
        """Keep the evidence lock while its documents are fetched (several, each up to
        DOWNLOAD_TIMEOUT); a worker that dies stops renewing it and another takes over."""
        while True:
            await asyncio.sleep(self.worker_ms / 3000)
            self._renew_lock(keys=[lock], args=[self.worker, self.worker_ms])


def _encode(kind: str, url: str, document: PolicyDocument, unreadable: str | None) -> dict:
    body = None if document.body is None else base64.b64encode(document.body).decode("ascii")
    return {
        "kind": kind,
        "url": url,
        "status": document.status,
        "body": body,
        "record_id": document.record_id,
        "unreadable": unreadable,
    }


def _decode(entry: dict) -> tuple[PolicyDocument, str | None]:
    body = None if entry["body"] is None else base64.b64decode(entry["body"])
    document = PolicyDocument(entry["url"], entry["status"], body, entry["record_id"])
    return document, entry["unreadable"]


def _recording(fetch: Fetch, recorded: list[dict]) -> Fetch:
    async def recording_fetch(kind: str, url: str, **options: Any):
        document, unreadable = await fetch(kind, url, **options)
        recorded.append(_encode(kind, url, document, unreadable))
        return document, unreadable

    return recording_fetch


def _replay(recorded: list[dict], fetch: Fetch) -> Fetch:
    stored = {(entry["kind"], entry["url"]): entry for entry in recorded}

    async def replaying_fetch(kind: str, url: str, **options: Any):
        entry = stored.get((kind, url))
        if entry is None:  # not fetched by the first worker (another profile?): fetch it here
            return await fetch(kind, url, **options)
        return _decode(entry)

    return replaying_fetch
