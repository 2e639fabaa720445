"""Distributed mode: N workers share one frontier, one copy of each origin's evidence, one pace.

Switched on by `DISTRIBUTED_REDIS_URL` (`pip install -e .[distributed]`). The add-on then puts
scrapy-redis's scheduler and dupefilter in place, so every worker pops from one queue and no URL
is requested twice; this package adds what scrapy-redis does not share:

- origin evidence: the first worker to need an origin's policy documents fetches (and archives)
  them and stores them in Redis for `POLICY_CACHE_SECONDS`; the others replay them, so robots.txt
  is fetched once per origin across all workers, and their decisions cite the same records;
- politeness: per-origin concurrency (`CONCURRENT_REQUESTS_PER_DOMAIN`) is a lease set and the
  delay between requests (`DOWNLOAD_DELAY`, Crawl-delay, back-off) a shared clock, both in Redis
  and counted across workers;
- the end: a worker whose frontier is empty waits while another worker still has work in hand
  (it may queue more), and stops when none has;
- a dead worker: what it had taken and not finished goes back to the frontier, and its places
  per origin free up, once it has been silent for DISTRIBUTED_WORKER_TIMEOUT.

Its modules:
- `config.py` — the settings, the crawl's Redis key prefix, this worker's name; `configure()`,
  called by the add-on;
- `part.py` — what the parts of the shared state stand on: the Redis client, the keys, and Lua
  scripts run atomically on Redis's clock;
- `frontier.py`, `politeness.py`, `evidence.py`, `workers.py` — the parts of the shared state:
  requests queued and taken; leases and the shared clock per origin; evidence fetched once and
  replayed; the register of workers, who has work in hand, and a dead worker's requests put back;
- `state.py` — `SharedState`, the parts put together, and `shared_state()`, a crawler's one view;
- `scheduler.py` — the scheduler, dupefilter and spider middleware that use the frontier's part;
- `finish.py` — the extension that beats the heartbeat and ends the crawl when no worker has work.

Redis keys, under `rightscrawl:{DISTRIBUTED_CRAWL_ID}`:
    requests, dupefilter        scrapy-redis frontier (kept after the crawl: SCHEDULER_PERSIST)
    evidence:{origin}           the origin's policy documents, JSON
    evidence-lock:{origin}      the worker fetching them
    leases:{origin}             requests in flight to the origin (sorted set, score = expiry ms)
    next:{origin}               when (Redis clock, ms) the next request to the origin may start
    busy:{worker}               a worker with requests in hand
    workers                     register of workers (sorted set, score = heartbeat expiry ms)
    inflight:{worker}           requests it took and has not finished (hash: token → request)
"""

from crawler.distributed.config import configure
from crawler.distributed.evidence import Fetch
from crawler.distributed.finish import SharedFinish
from crawler.distributed.scheduler import (
    DoneWithOutput,
    SharedDupeFilter,
    SharedScheduler,
    request_done,
)
from crawler.distributed.state import SharedState, shared_state

# What the rest of the project imports, and the paths configure() names Scrapy's components by.
__all__ = [
    "DoneWithOutput",
    "Fetch",
    "SharedDupeFilter",
    "SharedFinish",
    "SharedScheduler",
    "SharedState",
    "configure",
    "request_done",
    "shared_state",
]
