"""Item pipeline: every decision, capture and evidence fetch into the provenance database.

Rows are buffered and written in batches (`PROVENANCE_BATCH_SIZE` rows or `PROVENANCE_FLUSH_SECONDS`,
whichever comes first) and flushed when the spider closes, Ctrl-C included.

During a crawl the writes run in a worker thread, one at a time and in the order the rows came
(one writer), so a database that blocks (SQLite's busy timeout, a PostgreSQL lock) never stalls
the reactor: timers, downloads and Ctrl-C keep working. A failed write keeps its rows, in order,
and is retried with exponential back-off; while the database is out, or while a whole batch waits
behind the one being written, the engine is paused (no new requests), so the rows held stay
bounded. A database out for longer than `PROVENANCE_OUTAGE_MAX_SECONDS` stops the crawl
(`provenance_db_error`, exit status 1); the rows not written are saved beside the WARC files
(`provenance-pending-<run>.jsonl`) and written by the next crawl over the same output, and the
captures' rows can also be rebuilt from the WARC metadata records.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session
from twisted.internet import defer, reactor, threads
from twisted.internet.task import deferLater

from crawler.contracts import (
    CaptureItem,
    CrawlRun,
    EvidenceFetch,
    Headers,
    SettingError,
    capture_kept,
    crawl_run,
    decision_made,
    evidence_fetched,
    hide_password,
    non_negative_float,
    positive_int,
)
from pipelines import models, schema
from policies.evidence import Decision

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings
    from scrapy.statscollectors import StatsCollector
    from sqlalchemy.engine import Connection

logger = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 0.25  # back-off after a failed write: doubled each time, up to
RETRY_MAX_SECONDS = 10.0
# PostgreSQL waits for a lock without end: give up an attempt after as long as SQLite's default
# busy timeout, and retry.
LOCK_WAIT = "5s"
SPILL_GLOB = "provenance-pending-*.jsonl"

RECORDED_SETTINGS = (
    "POLICY_PROFILE",
    "CRAWLER_CONTACT",
    "ALLOW_PRIVATE_ADDRESSES",
    "WARC_DIR",
    "WARC_PREFIX",
    "WARC_MAX_SIZE",
    "PROVENANCE_DB_URL",
    "USER_AGENT",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY",
    "AUTOTHROTTLE_ENABLED",
    "DEPTH_LIMIT",
    "CLOSESPIDER_PAGECOUNT",
    "DOWNLOAD_MAXSIZE",
    "JOBDIR",
)


def recorded_settings(settings: Settings) -> dict[str, Any]:
    values = {name: settings.get(name) for name in RECORDED_SETTINGS}
    if values["PROVENANCE_DB_URL"]:  # never store a database password in the database
        values["PROVENANCE_DB_URL"] = make_url(values["PROVENANCE_DB_URL"]).render_as_string(
            hide_password=True
        )
    recorded: dict[str, Any] = {}
    for name, value in values.items():
        if not isinstance(value, (str, int, float, bool, type(None))):
            value = str(value)
        if isinstance(value, str) and "://" in value:  # any other URL with a password, too
            value = hide_password(value)
        recorded[name] = value
    return recorded


def header_value(headers: Headers, name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in headers if k.lower() == name), None)


def stop_crawl(crawler: Crawler, reason: str) -> None:
    engine = crawler.engine
    if engine is None:
        return
    logger.info("Stopping the crawl: %(reason)s", {"reason": reason})  # the caller said why
    if hasattr(engine, "close_spider_async"):  # Scrapy >= 2.14
        deferred_from_coro(engine.close_spider_async(reason=reason))
    else:
        engine.close_spider(crawler.spider, reason)


def decision_row(
    decision: Decision, run_id: str, provenance: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "url": decision.url,
        "outcome": decision.outcome,
        "reasons": list(decision.reasons),
        "stage": decision.stage,
        "decided_at": decision.decided_at,
        "detail": provenance or decision.to_provenance(run_id),
    }


@dataclass
class Rows:
    """Rows not yet in the database, in the order they came: decisions (each with its capture
    row, if any) and evidence."""

    decisions: list[tuple[dict[str, Any], dict[str, Any] | None]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    captures: int = 0

    def add(self, decision: dict[str, Any], capture: dict[str, Any] | None = None) -> None:
        self.decisions.append((decision, capture))
        self.captures += capture is not None

    @property
    def entries(self) -> int:  # what a batch counts
        return len(self.decisions) + len(self.evidence)

    @property
    def rows(self) -> int:  # table rows, captures included
        return len(self.decisions) + self.captures + len(self.evidence)

    def __bool__(self) -> bool:
        return bool(self.decisions or self.evidence)

    def __add__(self, later: Rows) -> Rows:
        return Rows(
            self.decisions + later.decisions,
            self.evidence + later.evidence,
            self.captures + later.captures,
        )


def write_rows(connection: Connection, rows: Rows) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
    if rows.decisions:
        # Bulk INSERT … RETURNING, ids in parameter order, so captures can refer to them.
        ids = (
            connection.execute(
                insert(models.Decision).returning(models.Decision.id, sort_by_parameter_order=True),
                [decision for decision, _ in rows.decisions],
            )
            .scalars()
            .all()
        )
        captures = [
            {**capture, "decision_id": id_}
            for id_, (_, capture) in zip(ids, rows.decisions, strict=True)
            if capture is not None
        ]
        if captures:
            connection.execute(insert(models.Capture), captures)
    if rows.evidence:
        connection.execute(insert(models.Evidence), rows.evidence)


def short_error(error: BaseException) -> str:
    """One line naming the error; SQLAlchemy's own message repeats the statement and every row."""
    cause = getattr(error, "orig", None) or error
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {first[:200]}" if first else type(cause).__name__


# -- the rows of a crawl that had to stop, saved beside its WARC files ----------------------------

_TIMES = ("decided_at", "fetched_at")


def _encode(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    encoded = {k: v.isoformat() if k in _TIMES and v is not None else v for k, v in row.items()}
    if isinstance(encoded.get("body"), bytes):
        encoded["body"] = base64.b64encode(encoded["body"]).decode("ascii")
    return encoded


def _decode(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    decoded = {
        k: datetime.fromisoformat(v) if k in _TIMES and v is not None else v for k, v in row.items()
    }
    if isinstance(decoded.get("body"), str):
        decoded["body"] = base64.b64decode(decoded["body"])
    return decoded


def save_rows(path: Path, rows: Rows) -> None:
    """Write `rows` to `path` as JSON lines, replacing it whole (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8") as stream:
        for decision, capture in rows.decisions:
            line = {"decision": _encode(decision), "capture": _encode(capture)}
            stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        for evidence in rows.evidence:
            stream.write(json.dumps({"evidence": _encode(evidence)}, ensure_ascii=False) + "\n")
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(partial, path)


def load_rows(path: Path) -> Rows:
    rows = Rows()
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            entry = json.loads(line)
            if "evidence" in entry:
                rows.evidence.append(_decode(entry["evidence"]))
            else:
                rows.add(_decode(entry["decision"]), _decode(entry["capture"]))
    return rows


def unwritten(connection: Connection, rows: Rows) -> Rows:
    """The rows not in the database yet: a write may have landed before the process died, and
    recovery may have rebuilt captures and evidence from the WARC files."""
    runs = {d["run_id"] for d, _ in rows.decisions} | {e["run_id"] for e in rows.evidence}
    ids = {c["record_id"] for _, c in rows.decisions if c}
    ids |= {e["record_id"] for e in rows.evidence if e["record_id"]}
    records = set(
        connection.scalars(
            select(models.Capture.record_id).where(models.Capture.record_id.in_(ids))
        )
    )
    records |= set(
        connection.scalars(
            select(models.Evidence.record_id).where(models.Evidence.record_id.in_(ids))
        )
    )
    decided = {
        tuple(row)
        for row in connection.execute(
            select(models.Decision.run_id, models.Decision.url, models.Decision.stage).where(
                models.Decision.run_id.in_(runs)
            )
        )
    }
    failed = {  # fetches that failed: no WARC record, no record id
        tuple(row)
        for row in connection.execute(
            select(
                models.Evidence.run_id,
                models.Evidence.kind,
                models.Evidence.url,
                models.Evidence.error,
            ).where(models.Evidence.run_id.in_(runs), models.Evidence.record_id.is_(None))
        )
    }
    left = Rows()
    for evidence in rows.evidence:
        if evidence["record_id"]:
            known = evidence["record_id"] in records
        else:
            known = (
                evidence["run_id"],
                evidence["kind"],
                evidence["url"],
                evidence["error"],
            ) in failed
        if not known:
            left.evidence.append(evidence)
    for decision, capture in rows.decisions:
        if capture is not None and capture["record_id"] in records:
            continue
        if (decision["run_id"], decision["url"], decision["stage"]) not in decided:
            left.add(decision, capture)
    return left


class ProvenancePipeline:
    def __init__(
        self,
        db_url: str,
        run: CrawlRun,
        stats: StatsCollector,
        *,
        batch_size: int = 500,
        flush_seconds: float = 5.0,
        outage_max_seconds: float = 300.0,
        spill_dir: str | Path | None = None,
        settings: dict[str, Any] | None = None,
        on_persistent_failure: Callable[[str], None] | None = None,
    ):
        self.engine = models.create_engine(db_url)
        self.run = run
        self.stats = stats
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.outage_max_seconds = outage_max_seconds
        self.spill_path = (
            Path(spill_dir) / f"provenance-pending-{run.id}.jsonl" if spill_dir else None
        )
        self.settings = settings or {}
        self.on_persistent_failure = on_persistent_failure
        self.crawler: Crawler | None = None  # set: a running crawl, writes in a worker thread
        self._queued = Rows()
        self._held: deque[tuple[defer.Deferred[None] | None, Callable[[], None]]] = deque()
        self._writing = Rows()  # handed to the writer thread
        self._job: defer.Deferred[None] | None = None
        self._outage_since: float | None = None  # monotonic start of the first failed write
        self._given_up = False
        self._paused = False
        self._closing = False
        self._last_flush = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        db_url = settings.get("PROVENANCE_DB_URL")
        try:
            make_url(db_url)
        except ArgumentError:
            raise SettingError(
                f"Setting PROVENANCE_DB_URL is not a SQLAlchemy URL: {hide_password(db_url)!r}"
            ) from None
        masked = hide_password(db_url)
        try:
            engine = models.create_engine(db_url)  # a missing driver raises here
            with engine.connect():  # a database that cannot be reached stops the crawl at start
                pass
            engine.dispose()
        except ImportError as exc:
            raise SettingError(
                f"Setting PROVENANCE_DB_URL {masked!r} needs a database driver that is not "
                f"installed ({exc.name or exc})"
            ) from None
        except (SQLAlchemyError, OSError) as exc:
            first_line = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise SettingError(
                f"Setting PROVENANCE_DB_URL: cannot open {masked!r}: {first_line}"
            ) from None
        pipeline = cls(
            db_url,
            crawl_run(crawler),
            crawler.stats,
            batch_size=positive_int(settings, "PROVENANCE_BATCH_SIZE"),
            flush_seconds=non_negative_float(settings, "PROVENANCE_FLUSH_SECONDS"),
            outage_max_seconds=non_negative_float(settings, "PROVENANCE_OUTAGE_MAX_SECONDS"),
            # One crawl per WARC_DIR (crawler/run_lock.py): its unwritten rows are its own.
            spill_dir=settings.get("WARC_DIR"),
            settings=recorded_settings(settings),
            on_persistent_failure=lambda reason: stop_crawl(crawler, reason),
        )
        pipeline.crawler = crawler
        crawler.signals.connect(pipeline.decision_made, signal=decision_made)
        crawler.signals.connect(pipeline.capture_kept, signal=capture_kept)
        crawler.signals.connect(pipeline.evidence_fetched, signal=evidence_fetched)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    # -- lifecycle ---------------------------------------------------------------------------

    def open_spider(self, spider: Spider | None = None) -> None:
        # Raises when the database cannot be used: a crawl must not run without its provenance.
        spider = spider or getattr(self.crawler, "spider", None)
        self.open(spider.name if spider is not None else "unknown")

    def open(self, spider_name: str) -> None:
        schema.upgrade(self.engine)
        with Session(self.engine) as session, session.begin():
            session.merge(
                models.Run(
                    id=self.run.id,
                    spider=spider_name,
                    started_at=self.run.started_at,
                    user_agent=self.run.user_agent,
                    profile=self.run.profile.name,
                    profile_sha256=self.run.profile.sha256,
                    settings=self.settings,
                    version=self.run.version,
                    hostname=socket.gethostname(),
                )
            )
        self.write_saved_rows()

    def write_saved_rows(self) -> None:
        """Write the rows an earlier crawl over this output saved when its database was out."""
        if self.spill_path is None:
            return
        for path in sorted(self.spill_path.parent.glob(SPILL_GLOB)):
            rows = load_rows(path)
            with self.engine.begin() as connection:
                rows = unwritten(connection, rows)
                write_rows(connection, rows)
            path.unlink()
            logger.warning(
                "Wrote %(count)d provenance rows an earlier crawl saved in %(file)s",
                {"count": rows.rows, "file": path.name},
            )

    def close_spider(self, spider: Spider | None = None) -> None:
        self._flush_soon()  # the WARC pipeline closes its file meanwhile; spider_closed waits

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        # Sent after the pipelines closed: the last decisions are in, and the reason is known.
        self._closing = True
        for archived, _ in list(self._held):  # captures the WARC writer still had (late ones)
            if archived is not None and not archived.called:
                await maybe_deferred_to_future(archived)
        reported = self._given_up  # the crawl was stopped for the outage, and said so
        if self._outage_since is not None:
            self._save()  # first: a second Ctrl-C may end the wait
        if self._outage_since is not None and not reported:
            logger.warning(
                "Waiting up to %(seconds).0f s for the provenance database to take %(count)d rows; "
                "they are saved in %(file)s meanwhile (Ctrl-C again stops now, the next crawl "
                "writes them)",
                {
                    "seconds": max(
                        0.0, self._outage_since + self.outage_max_seconds - time.monotonic()
                    ),
                    "count": self.pending,
                    "file": self.spill_path,
                },
            )
        if self._job is not None:
            await maybe_deferred_to_future(self._job)
        if self._queued and not self._given_up:
            self._flush_soon()  # until written, or PROVENANCE_OUTAGE_MAX_SECONDS into an outage
            if self._job is not None:
                await maybe_deferred_to_future(self._job)
        elif self._queued:  # the crawl stopped for the outage: one last try
            rows, self._queued = self._queued, Rows()
            try:
                await maybe_deferred_to_future(threads.deferToThread(self._write, rows))
            except Exception:  # noqa: BLE001 - reported already, rows saved
                self._queued = rows
            else:
                self._written(rows)
        if self._queued:
            self._save()
            self.stats.set_value("finish_reason", "provenance_db_error")  # exit status 1
            reason = "provenance_db_error"
            if not reported:
                logger.error(
                    "The provenance database stayed unavailable (PROVENANCE_OUTAGE_MAX_SECONDS): "
                    "%(count)d rows not written are saved in %(file)s for the next crawl over "
                    "this output",
                    {"count": self._queued.rows, "file": self.spill_path},
                )
        elif self.spill_path is not None:
            self.spill_path.unlink(missing_ok=True)
        try:
            await maybe_deferred_to_future(threads.deferToThread(self._record_end, reason))
        except Exception as error:  # noqa: BLE001 - rows are safe; only the run's end is missing
            logger.warning(
                "Could not record the end of run %(run)s (%(error)s)",
                {"run": self.run.id, "error": short_error(error)},
            )
        self.engine.dispose()

    def close(self, finish_reason: str | None = None) -> None:
        """Write what is queued and the run's end, in this thread (outside a running crawl)."""
        self.flush()
        if self._queued:
            logger.error(
                "%(count)d provenance rows could not be written to the database",
                {"count": self._queued.rows},
            )
        try:
            self._record_end(finish_reason)
        except SQLAlchemyError as error:
            logger.error(
                "Could not record the end of run %(run)s (%(error)s)",
                {"run": self.run.id, "error": short_error(error)},
            )
        self.engine.dispose()

    def _record_end(self, finish_reason: str | None) -> None:
        with Session(self.engine) as session, session.begin():
            run = session.get(models.Run, self.run.id)
            if run is not None:
                run.finished_at = datetime.now(UTC)
                run.finish_reason = finish_reason
                run.stats = {
                    k: v
                    for k, v in self.stats.get_stats().items()
                    if k.startswith(("policy/", "warc/", "provenance/"))
                }

    # -- rows --------------------------------------------------------------------------------

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        """The spider's own items pass untouched: captures arrive on `capture_kept`."""
        return item

    def capture_kept(self, capture: CaptureItem) -> None:
        self._in_order(capture.archived, lambda: self._capture_archived(capture))

    def _capture_archived(self, capture: CaptureItem) -> None:
        if capture.archive_error is not None:  # not in the WARC: no row claims it is kept
            return
        decision = decision_row(capture.decision, self.run.id, capture.provenance)
        row = None
        if capture.warc is not None:
            content_type = next(
                (
                    v.decode("latin-1")
                    for k, v in capture.response.headers
                    if k.lower() == b"content-type"
                ),
                None,
            )
            row = {
                "run_id": self.run.id,
                "url": capture.url,
                "fetched_at": capture.response.fetched_at or capture.decision.decided_at,
                "status": capture.response.status,
                "content_type": content_type,
                "warc_file": capture.warc.filename,
                "warc_offset": capture.warc.offset,
                "warc_length": capture.warc.length,
                "record_id": capture.warc.record_id,
                "payload_digest": capture.warc.payload_digest,
                "metadata_record_id": capture.metadata_record_id,
                "etag": header_value(capture.response.headers, b"etag"),
                "last_modified": header_value(capture.response.headers, b"last-modified"),
                "revisit_of": capture.revisit.refers_to if capture.revisit else None,
                "revisit_profile": capture.revisit.profile if capture.revisit else None,
            }
            if capture.previous is not None:  # a 304 may leave out what did not change
                row["etag"] = row["etag"] or capture.previous.etag
                row["last_modified"] = row["last_modified"] or capture.previous.last_modified
                row["content_type"] = row["content_type"] or capture.previous.content_type
        self._add(decision, row)

    def decision_made(self, decision: Decision) -> None:
        self._in_order(None, lambda: self._add(decision_row(decision, self.run.id)))

    def evidence_fetched(self, evidence: EvidenceFetch) -> None:
        self._in_order(evidence.archived, lambda: self._evidence_archived(evidence))

    def _in_order(self, archived: defer.Deferred[None] | None, add: Callable[[], None]) -> None:
        """Queue rows in the order of the signals, each only once the WARC writer is done with
        everything it was given before: the database is never ahead of the WARC files (a row
        names a record that is on disk, a decision cites evidence that is). `archived` is the
        WARC pipeline's Deferred for this signal's records, if it writes them in its thread."""
        if not self._held and (archived is None or archived.called):
            add()
            return
        self._held.append((archived, add))
        if archived is not None and not archived.called:
            archived.addBoth(self._release)

    def _release(self, result: Any = None) -> Any:
        while self._held and (self._held[0][0] is None or self._held[0][0].called):
            _, add = self._held.popleft()
            add()
        return result

    def _evidence_archived(self, evidence: EvidenceFetch) -> None:
        if evidence.archive_error is not None and evidence.response is not None:
            return  # its records are not in the WARC: the next crawl fetches it again
        self._queued.evidence.append(
            {
                "run_id": self.run.id,
                "kind": evidence.kind,
                "url": evidence.url,
                "fetched_at": evidence.fetched_at,
                "status": str(evidence.status),
                "sha256": evidence.sha256,
                "body": evidence.body,
                "record_id": evidence.record_id if evidence.response else None,
                "error": evidence.error,
            }
        )
        self._added()

    def _add(self, decision: dict[str, Any], capture: dict[str, Any] | None = None) -> None:
        self._queued.add(decision, capture)
        self._added()

    def _added(self) -> None:
        self.stats.max_value("provenance/pending_max", self.pending)
        self._maybe_flush()
        self._hold_back()

    @property
    def pending(self) -> int:
        """Rows not in the database yet (being written or queued)."""
        return self._writing.rows + self._queued.rows

    def _maybe_flush(self) -> None:
        if (
            self._queued.entries >= self.batch_size
            or time.monotonic() - self._last_flush >= self.flush_seconds
        ):
            if self.crawler is None:
                self.flush()
            else:
                self._flush_soon()

    # -- writing -----------------------------------------------------------------------------

    def _write(self, rows: Rows) -> None:
        """One transaction; runs in the writer thread during a crawl."""
        with self.engine.begin() as connection:
            write_rows(connection, rows)

    def flush(self) -> None:
        """Write what is queued in this thread; on failure keep it for the next attempt."""
        self._last_flush = time.monotonic()
        rows, self._queued = self._queued, Rows()
        if not rows:
            return
        started = time.monotonic()
        try:
            self._write(rows)
        except SQLAlchemyError as error:
            self._failed(rows, error, started)
            if self._outage_exceeded():
                self._give_up()
            return
        self._written(rows)

    def _flush_soon(self) -> None:
        """Start the writer unless it runs already (it takes what queued up meanwhile)."""
        if self._job is None and self._queued and not self._given_up:
            self._job = deferred_from_coro(self._write_queued())

    async def _write_queued(self) -> None:
        delay = RETRY_FIRST_SECONDS
        try:
            while self._queued:
                self._last_flush = started = time.monotonic()
                self._writing, self._queued = self._queued, Rows()
                try:
                    await maybe_deferred_to_future(
                        threads.deferToThread(self._write, self._writing)
                    )
                except Exception as error:  # noqa: BLE001 - any failure keeps the rows
                    rows, self._writing = self._writing, Rows()
                    self._failed(rows, error, started)
                    if self._outage_exceeded():
                        self._give_up()
                        return
                    remaining = self._outage_since + self.outage_max_seconds - time.monotonic()
                    await maybe_deferred_to_future(
                        deferLater(reactor, max(0.0, min(delay, remaining)))
                    )
                    delay = min(2 * delay, RETRY_MAX_SECONDS)
                    continue
                rows, self._writing = self._writing, Rows()
                self._written(rows)
                delay = RETRY_FIRST_SECONDS
                if not self._closing and self._queued.entries < self.batch_size:
                    break  # a partial batch waits for PROVENANCE_FLUSH_SECONDS
        finally:
            self._job = None
            self._hold_back()

    def _written(self, rows: Rows) -> None:
        self.stats.inc_value("provenance/rows", rows.rows)
        self.stats.inc_value("provenance/batches")
        if self._outage_since is not None:
            logger.warning(
                "Provenance database back after %(seconds).1f s: held rows written, "
                "fetching resumes",
                {"seconds": time.monotonic() - self._outage_since},
            )
            self._outage_since = None
        self._hold_back()

    def _failed(self, rows: Rows, error: BaseException, started: float) -> None:
        self._queued = rows + self._queued  # first in, first written: order kept
        self.stats.inc_value("provenance/errors")
        if self._outage_since is None:
            self._outage_since = started
            logger.warning(
                "Provenance database unavailable (%(error)s): %(count)d rows held, "
                "fetching paused; retrying for up to %(max)g s (PROVENANCE_OUTAGE_MAX_SECONDS)",
                {
                    "error": short_error(error),
                    "count": self.pending,
                    "max": self.outage_max_seconds,
                },
            )
        else:
            logger.info(
                "Provenance database still unavailable after %(seconds).1f s (%(error)s): "
                "%(count)d rows held",
                {
                    "seconds": time.monotonic() - self._outage_since,
                    "error": short_error(error),
                    "count": self.pending,
                },
            )
        if self._closing:
            self._save()
        self._hold_back()

    def _outage_exceeded(self) -> bool:
        return (
            self._outage_since is not None
            and time.monotonic() - self._outage_since >= self.outage_max_seconds
        )

    def _give_up(self) -> None:
        if self._given_up:
            return
        self._given_up = True
        self._save()
        if self._closing:
            return  # spider_closed reports it
        logger.error(
            "The provenance database has been unavailable for %(seconds).0f s "
            "(PROVENANCE_OUTAGE_MAX_SECONDS): stopping the crawl; %(count)d rows not written are "
            "saved in %(file)s for the next crawl over this output",
            {
                "seconds": time.monotonic() - (self._outage_since or time.monotonic()),
                "count": self.pending,
                "file": self.spill_path,
            },
        )
        if self.on_persistent_failure:
            # Crawling on without recording provenance would collect bytes no one can vouch for.
            self.on_persistent_failure("provenance_db_error")

    def _save(self) -> None:
        rows = self._writing + self._queued
        if self.spill_path is None or not rows:
            return
        try:
            save_rows(self.spill_path, rows)
        except OSError as error:  # the rows stay queued; the WARC records still hold the captures
            logger.error(
                "Could not save %(count)d provenance rows in %(file)s (%(error)s)",
                {"count": rows.rows, "file": self.spill_path, "error": error},
            )

    def _hold_back(self) -> None:
        """Pause fetching while the database is out or a whole batch waits behind the one being
        written: the rows held stay bounded by the batch size and the requests in flight."""
        engine = getattr(self.crawler, "engine", None)
        if engine is None or self._closing:
            return
        hold = self._outage_since is not None or (
            self._job is not None and self._queued.entries >= self.batch_size
        )
        if hold and not self._paused:
            self._paused = True
            engine.pause()
            self.stats.inc_value("provenance/pauses")
            logger.debug("Fetching paused: %(count)d provenance rows held", {"count": self.pending})
        elif not hold and self._paused:
            self._paused = False
            engine.unpause()
            # Scrapy's engine looks for requests again on its 5 s heartbeat; now is better.
            slot = getattr(engine, "_slot", None)
            if slot is not None:
                slot.nextcall.schedule()
