"""Extension: one crawl at a time over the same output (cron-safe runs).

Takes an exclusive lock on `{WARC_DIR}/.rightscrawl.lock` before anything is written. A second
crawl over the same output — an overlapping cron run — exits at once with status 75 (EX_TEMPFAIL:
"try again later") and a message saying which process holds the lock; the first is not disturbed.
The lock is released when the engine has stopped (everything written), or by the kernel when the
process ends, however it ends. A folder that cannot
be written (full, read-only) stops the crawl here with one line and exit status 1. Holding it, the
crawl first closes out WARC files a killed crawl left open (pipelines/warc_recovery.py) and, for
a killed JOBDIR crawl, prepares the frontier's rebuild (crawler/job_resume.py).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy import signals

from crawler import job_resume
from crawler.contracts import SettingError
from pipelines.warc import write_error_message
from pipelines.warc_recovery import recover_directory

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

LOCK_NAME = ".rightscrawl.lock"
EXIT_LOCKED = 75  # EX_TEMPFAIL (sysexits.h)
EXIT_FAILED = 1


def _exit(message: str, status: int) -> None:
    logger.error(message)
    print(message, file=sys.stderr, flush=True)
    logging.shutdown()
    os._exit(status)  # before the reactor, pipelines or files: nothing to clean up


class RunLock:
    def __init__(self, directory: Path):
        try:
            self._lock(directory)
        except OSError as error:  # a full disk, a read-only or missing mount, no permission
            # A setting the crawl cannot use: one line, exit 1 (crawler.config.report_start_failure)
            raise SettingError(write_error_message(directory, error)) from None

    def _lock(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / LOCK_NAME
        self.handle = open(self.path, "a+")  # noqa: SIM115 - held for the life of the crawl
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            _exit(
                f"rightscrawl: another crawl ({holder}) is writing to {directory}; not starting. "
                f"Exit status {EXIT_LOCKED}: try again later.",
                EXIT_LOCKED,
            )
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()}")
        self.handle.flush()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        lock = cls(Path(crawler.settings.get("WARC_DIR")))
        # Holding the lock, nothing else writes here: close out what a killed crawl left open.
        recover_directory(
            crawler.settings.get("WARC_DIR"), crawler.settings.get("PROVENANCE_DB_URL")
        )
        job_resume.prepare(crawler)  # a killed JOBDIR crawl: before Scrapy reads its queue
        # Everything is written once the engine stopped: a later crawl in this process (recheck
        # runs one per profile) may take the lock.
        crawler.signals.connect(lock.release, signal=signals.engine_stopped)
        return lock

    def release(self) -> None:
        if not self.handle.closed:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
