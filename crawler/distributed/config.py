"""Distributed mode's settings: the crawl's Redis key prefix, this worker's name and timeout,
and `configure()`, by which the add-on puts the shared frontier in place."""

from __future__ import annotations

import os
import socket
import uuid
from typing import TYPE_CHECKING

from crawler.config import force
from crawler.contracts import SettingError, hide_password, non_negative_float, positive_int

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

KEY_PREFIX = "rightscrawl"
WORKER_TIMEOUT = 30.0  # a worker silent this long is dead: its requests in flight go back


def worker_name() -> str:
    # Host and pid say where it runs; the suffix keeps a restarted container (pid 1 again, same
    # host name) from taking over the requests its predecessor died with.
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def worker_timeout(settings: BaseSettings) -> float:
    seconds = non_negative_float(settings, "DISTRIBUTED_WORKER_TIMEOUT")
    if seconds < 1:
        raise SettingError(
            f"Setting DISTRIBUTED_WORKER_TIMEOUT must be at least 1 second, not {seconds}"
        )
    return seconds


def batch_size(settings: BaseSettings) -> int:
    return positive_int(settings, "DISTRIBUTED_BATCH_SIZE")


def key_prefix(settings: BaseSettings) -> str:
    crawl_id = settings.get("DISTRIBUTED_CRAWL_ID") or "%(spider)s"
    return f"{KEY_PREFIX}:{crawl_id}"


def configure(settings: BaseSettings) -> None:
    """Switch the scheduler and dupefilter to scrapy-redis (called by the add-on)."""
    try:
        import scrapy_redis  # noqa: F401
    except ImportError:
        raise SettingError(
            "DISTRIBUTED_REDIS_URL is set but scrapy-redis is not installed: "
            "pip install -e '.[distributed]'"
        ) from None
    import redis

    worker_timeout(settings)  # a bad value stops the crawl now
    batch_size(settings)
    url = settings.get("DISTRIBUTED_REDIS_URL")
    try:  # a clear error now, not a traceback from inside the engine later
        client = redis.Redis.from_url(url, socket_connect_timeout=10)
        client.ping()
        client.close()
    except (redis.RedisError, ValueError) as exc:
        # The URL as written, its password hidden (redis-py's own messages never carry it).
        raise SettingError(
            f"Setting DISTRIBUTED_REDIS_URL: cannot use {hide_password(url)!r}: {exc}"
        ) from None
    prefix = key_prefix(settings)
    force(settings, "REDIS_URL", settings.get("DISTRIBUTED_REDIS_URL"))
    force(settings, "SCHEDULER", "crawler.distributed.SharedScheduler")
    force(settings, "DUPEFILTER_CLASS", "crawler.distributed.SharedDupeFilter")
    force(settings, "SCHEDULER_QUEUE_KEY", f"{prefix}:requests")
    # A sorted set by priority: SharedScheduler pops it atomically with the worker's busy mark.
    force(settings, "SCHEDULER_QUEUE_CLASS", "scrapy_redis.queue.PriorityQueue")
    force(settings, "SCHEDULER_DUPEFILTER_KEY", f"{prefix}:dupefilter")
    # Never flush on close: the first worker to finish would empty the others' frontier.
    force(settings, "SCHEDULER_PERSIST", True)
    # The pace per origin is kept in Redis, for all workers together; a per-worker slot delay
    # or AutoThrottle on top would slow each worker down again by itself.
    force(settings, "DISTRIBUTED_DOWNLOAD_DELAY", settings.getfloat("DOWNLOAD_DELAY"))
    force(settings, "DOWNLOAD_DELAY", 0.0)
    force(settings, "AUTOTHROTTLE_ENABLED", False)
    settings["EXTENSIONS"]["crawler.distributed.SharedFinish"] = 0
    settings["SPIDER_MIDDLEWARES"]["crawler.distributed.DoneWithOutput"] = 0
