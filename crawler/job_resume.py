"""Resume a JOBDIR crawl that was killed, without losing the rest of its frontier.

Scrapy writes its disk queue's state (`requests.queue/active.json`, queue sizes) only when the
crawl closes. After a SIGKILL the queued requests are unreadable, while `requests.seen` (written
through, crawler/dupefilter.py) still holds them: a resumed crawl would filter its own seeds and
stop at once. So each JOBDIR gets a marker, `rightscrawl.job.json`: the runs of the job, and
whether the last one closed (a stop on a failure counts as not closed, see JobTracker). When it
did not, the stale queue is removed before Scrapy opens it, and the spider rebuilds the
frontier from what was archived: the seeds, the links of every page
the job kept (read from the WARC files) and the targets of its redirects — less every URL the job
already decided. The dupefilter's `requests.seen` is rebuilt from the decided URLs too
(crawler/dupefilter.py): nothing decided is fetched twice, and nothing fetched but lost with the
kill is filtered.

Lost with the kill: request priorities and depths (recovered requests start at depth 0), and
links only a script wrote on a rendered page (links are read from the response as received).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy import signals
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.commands.crawl import SUCCESSFUL
from crawler.contracts import crawl_run
from pipelines import models

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

MARKER = "rightscrawl.job.json"
_ATTRIBUTE = "_rightscrawl_interrupted_runs"


@dataclass
class JobMarker:
    path: Path
    runs: list[str] = field(default_factory=list)
    open: bool = False

    @classmethod
    def read(cls, jobdir: str | os.PathLike[str]) -> Self:
        path = Path(jobdir) / MARKER
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except ValueError:  # torn by a kill mid-write: the job did not close
            logger.warning(
                "%(path)s is unreadable; treating the job as interrupted", {"path": path}
            )
            return cls(path, open=True)
        return cls(path, list(data.get("runs", [])), bool(data.get("open")))

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps({"runs": self.runs, "open": self.open}), encoding="utf-8")
        os.replace(partial, self.path)  # never a torn marker


def prepare(crawler: Crawler) -> None:
    """Before the scheduler opens: note an interrupted job and drop its unreadable queue."""
    jobdir = crawler.settings.get("JOBDIR")
    if not jobdir:
        return
    marker = JobMarker.read(jobdir)
    if marker.open:
        queue = Path(jobdir) / "requests.queue"
        if queue.exists():
            shutil.rmtree(queue)
        setattr(crawler, _ATTRIBUTE, list(marker.runs))
        logger.warning(
            "JOBDIR %(jobdir)s was not closed (the crawl was killed): its frontier is rebuilt "
            "from the archived pages",
            {"jobdir": jobdir},
        )
    tracker = JobTracker(crawler, marker)
    crawler.signals.connect(tracker.spider_opened, signal=signals.spider_opened)
    crawler.signals.connect(tracker.spider_closed, signal=signals.spider_closed)
    crawler._rightscrawl_job_tracker = tracker  # signals hold weak references


class JobTracker:
    def __init__(self, crawler: Crawler, marker: JobMarker):
        self.crawler = crawler
        self.marker = marker

    def spider_opened(self, spider: Spider) -> None:
        self.marker.runs.append(crawl_run(self.crawler).id)
        self.marker.open = True
        self.marker.write()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        # Scrapy's scheduler has written its queue state by now (it closes before this signal).
        # A crawl stopped by a failure (a full WARC folder, a failing database) dropped the
        # responses it had in hand, which the dupefilter has seen and the saved queue no longer
        # holds: the job stays open, so the next run rebuilds the frontier as after a kill.
        self.marker.open = not reason.startswith(SUCCESSFUL)
        self.marker.write()


def interrupted_runs(crawler: Crawler) -> list[str]:
    """Runs of an interrupted job whose frontier the spider must rebuild (empty: none)."""
    return getattr(crawler, _ATTRIBUTE, [])


@dataclass(frozen=True, slots=True)
class JobArchive:
    """What the interrupted job's runs decided and kept."""

    decided: frozenset[str]
    kept: tuple[tuple[str, str, int, str | None], ...]  # url, warc file, offset, content type
    redirect_targets: tuple[str, ...]


def decided_urls(db_url: str, runs: list[str]) -> list[str]:
    """Every URL the job's runs decided (recovery has rebuilt what a kill left unwritten)."""
    engine = models.create_engine(db_url)
    try:
        with Session(engine) as session:
            return list(
                session.scalars(
                    select(models.Decision.url).where(models.Decision.run_id.in_(runs)).distinct()
                )
            )
    finally:
        engine.dispose()


def job_archive(db_url: str, runs: list[str]) -> JobArchive:
    engine = models.create_engine(db_url)
    try:
        with Session(engine) as session:
            decisions = session.execute(
                select(models.Decision.url, models.Decision.detail).where(
                    models.Decision.run_id.in_(runs)
                )
            ).all()
            captures = session.execute(
                select(
                    models.Capture.url,
                    models.Capture.warc_file,
                    models.Capture.warc_offset,
                    models.Capture.content_type,
                    models.Capture.revisit_of,
                ).where(models.Capture.run_id.in_(runs))
            ).all()
            # A revisit (a re-crawl's unchanged page) has no payload of its own: its links are
            # in the response record it refers to, perhaps from an earlier run.
            referred = {c.revisit_of for c in captures if c.revisit_of}
            originals = {}
            referred_ids = sorted(referred)
            for start in range(0, len(referred_ids), 500):  # bound the SQL parameters
                for row in session.execute(
                    select(
                        models.Capture.record_id,
                        models.Capture.warc_file,
                        models.Capture.warc_offset,
                        models.Capture.content_type,
                    ).where(models.Capture.record_id.in_(referred_ids[start : start + 500]))
                ):
                    originals[row.record_id] = row
    finally:
        engine.dispose()
    kept = []
    for capture in captures:
        source = originals.get(capture.revisit_of) if capture.revisit_of else capture
        if source is not None:
            content_type = capture.content_type or source.content_type
            kept.append((capture.url, source.warc_file, source.warc_offset, content_type))
    targets = [
        location
        for _, detail in decisions
        if (location := ((detail or {}).get("detail") or {}).get("location"))
    ]
    return JobArchive(
        frozenset(url for url, _ in decisions), tuple(map(tuple, kept)), tuple(targets)
    )


def undecided(candidates: Iterator[str], decided: frozenset[str]) -> Iterator[str]:
    seen: set[str] = set()
    for url in candidates:
        if url not in decided and url not in seen:
            seen.add(url)
            yield url
