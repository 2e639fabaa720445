"""The compliance layer as a Scrapy add-on: `ADDONS = {"crawler.addon.Rightscrawl": 0}`.

`update_settings` runs after every settings source (project, spider, `-s`), so it can put the
gate in place in any Scrapy project and build the User-Agent from `CRAWLER_CONTACT`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crawler import PRODUCT_TOKEN, __version__, stats
from crawler.collect import DEFAULT_COLLECT, DEFAULT_MAX_SIZE
from crawler.config import force, validate
from crawler.render import config as render_config
from policies.registry import DECLARED_DIR

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's robots.txt middleware allows everything when robots.txt fails: ours replaces it.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    # A meta-refresh page is a page: it is decided and archived like any other, and the spider
    # follows its target as a link (as Heritrix does), instead of the page vanishing mid-chain.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    # Lawful access: never send credentials (HTTPAUTH_USER/PASS would make this one add them).
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    # Notes each request's kind (and sitemap) for its decision, before anything decides it.
    "crawler.middlewares.collect.RequestKindMiddleware": 2,
    "crawler.middlewares.access_guard.AccessGuardMiddleware": 90,
    "crawler.middlewares.origin_policy.OriginPolicyMiddleware": 100,
    "crawler.middlewares.response_policy.ResponsePolicyMiddleware": 110,
    # On the way back, before the response policy decides: the kind its Content-Type confirms.
    "crawler.middlewares.collect.ResponseKindMiddleware": 115,
    # After the gate's process_request (a reserved URL is refused before validators are added).
    "crawler.middlewares.recrawl.RecrawlMiddleware": 120,
    "crawler.middlewares.politeness.PolitenessMiddleware": 990,
    "crawler.middlewares.no_credentials.NoCredentialsMiddleware": 995,
    "crawler.middlewares.wire_capture.WireCaptureMiddleware": 950,
    # After the response policy (110) and rendering (105) on the way back: every kept response
    # is archived and recorded here, whatever the spider does with it.
    "crawler.middlewares.capture.CaptureMiddleware": 50,
    # First in line: a URL with credentials never goes further (no_credentials.py).
    "crawler.middlewares.no_credentials.CredentialsUrlMiddleware": 1,
    # Last to see a failure (after RetryMiddleware gave up): every failed fetch is decided.
    "crawler.middlewares.fetch_failure.FetchFailureMiddleware": 10,
    # Scrapy's own, deciding what they drop: redirects (each hop) and bodies that inflate past
    # DOWNLOAD_MAXSIZE.
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.redirect.RedirectDecisionMiddleware": 600,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.fetch_failure.DecompressionLimitMiddleware": 590,
}
SPIDER_MIDDLEWARES = {
    # Next to the spider: its requests lose URL credentials before anything logs or queues them.
    "crawler.middlewares.no_credentials.CredentialsSpiderMiddleware": 1100,
}
ITEM_PIPELINES = {
    "pipelines.warc.WarcPipeline": 300,
    "pipelines.provenance.ProvenancePipeline": 400,
}
EXTENSIONS = {
    "crawler.gc_freeze.FreezeStartupObjects": 0,
    "crawler.run_lock.RunLock": 0,
    # One line of kept/excluded/queued/rate/bytes instead of Scrapy's pages and items per minute.
    "scrapy.extensions.logstats.LogStats": None,
    "crawler.progress.CrawlProgress": 0,
    "crawler.progress.NothingFetched": 0,
}
DEFAULTS = {
    "WARC_DIR": "data/warc",
    "WARC_PREFIX": "rightscrawl",
    "WARC_MAX_SIZE": 1024**3,
    "WARC_WRITE_QUEUE": 64,  # captures waiting for the WARC writer thread (pipelines/warc.py)
    "PROVENANCE_DB_URL": "sqlite:///data/provenance.sqlite",
    "PROVENANCE_BATCH_SIZE": 500,
    "PROVENANCE_FLUSH_SECONDS": 5.0,
    "PROVENANCE_OUTAGE_MAX_SECONDS": 300.0,
    "POLICY_PROFILE": "strict",
    "POLICY_CACHE_SECONDS": 24 * 3600.0,
    "POLICY_REGISTRIES": [str(DECLARED_DIR)],
    "POLICY_HTML_MAX_TAGS": 1_000_000,  # crawler/middlewares/response_policy.py HTML_MAX_TAGS
    # Who the crawling party is to RSL licences (`type="user"`): commercial unless it says so.
    "RSL_USER_TYPE": "commercial",  # policies/signals/rsl.py DEFAULT_USER_TYPE
    "POLITENESS_MAX_CRAWL_DELAY": 60.0,
    "POLITENESS_RETRY_AFTER_MAX": 300.0,
    "POLITENESS_ORIGIN_MAX_ERRORS": 10,
    "POLITENESS_MAX_PAGES_PER_ORIGIN": 0,
    # What the corpus spider requests (crawler/collect.py) and where it finds URLs.
    "COLLECT": DEFAULT_COLLECT,
    "COLLECT_MAX_SIZE": dict(DEFAULT_MAX_SIZE),
    "SITEMAPS": True,
    "CRAWLER_CONTACT": None,
    "ALLOW_PRIVATE_ADDRESSES": False,
    "RECRAWL_ENABLED": True,
    "DISTRIBUTED_REDIS_URL": None,
    "DISTRIBUTED_CRAWL_ID": None,
    "DISTRIBUTED_DOWNLOAD_DELAY": 0.0,
    "DISTRIBUTED_WORKER_TIMEOUT": 30.0,
    "DISTRIBUTED_BATCH_SIZE": 16,
    # `scrapy summary`: template 3.1, whether the provider signed the GPAI Code of Practice.
    "SUMMARY_GPAI_SIGNATORY": False,
    # Off only for commands that promise to write nothing (policy explain, fetch, shell).
    "WARC_ENABLED": True,
    "PROVENANCE_ENABLED": True,
}


def user_agent(contact: str | None) -> str:
    if contact:
        return f"{PRODUCT_TOKEN}/{__version__} (+{contact})"
    return f"{PRODUCT_TOKEN}/{__version__}"


class Rightscrawl:
    @classmethod
    def update_pre_crawler_settings(cls, settings: BaseSettings) -> None:
        """Our defaults, also for the offline commands, which start no crawler
        (crawler.config.OfflineCommand)."""
        for name, value in DEFAULTS.items():
            settings.setdefault(name, value)

    def update_settings(self, settings: BaseSettings) -> None:
        for name, value in DEFAULTS.items():
            settings.setdefault(name, value)
        # A mistyped value or name stops the crawl here, naming the setting, before any component
        # reads it (Scrapy's own getbool/getint errors do not say which setting).
        validate(settings, {**DEFAULTS, **render_config.DEFAULTS})
        for name, value in DOWNLOADER_MIDDLEWARES.items():
            settings["DOWNLOADER_MIDDLEWARES"][name] = value
        for name, value in SPIDER_MIDDLEWARES.items():
            settings["SPIDER_MIDDLEWARES"][name] = value
        recording = {
            "pipelines.warc.WarcPipeline": settings.getbool("WARC_ENABLED"),
            "pipelines.provenance.ProvenancePipeline": settings.getbool("PROVENANCE_ENABLED"),
        }
        for name, value in ITEM_PIPELINES.items():
            settings["ITEM_PIPELINES"][name] = value if recording[name] else None
        for name, value in EXTENSIONS.items():
            settings["EXTENSIONS"][name] = value
        if not all(recording.values()):
            # Nothing is written, so no output folder to lock and no killed crawl to recover.
            settings["EXTENSIONS"]["crawler.run_lock.RunLock"] = None
        force(settings, "ROBOTSTXT_OBEY", False)  # ours applies RFC 9309
        if settings.get("DUPEFILTER_CLASS") == "scrapy.dupefilters.RFPDupeFilter":
            settings.set(
                "DUPEFILTER_CLASS", "crawler.dupefilter.DurableDupeFilter", priority="addon"
            )
        if settings.get("STATS_CLASS") == stats.DEFAULT:  # crawler/stats.py: same, cheaper
            settings.set(
                "STATS_CLASS", "crawler.stats.DirectMemoryStatsCollector", priority="addon"
            )
        if settings.get("DISTRIBUTED_REDIS_URL"):
            from crawler import distributed

            distributed.configure(settings)
        # A crawl opens no listening port: no telnet console, no remote-control server.
        force(settings, "TELNETCONSOLE_ENABLED", False)
        force(settings, "REMOTE_CONTROL_ENABLED", False)
        if settings.getpriority("USER_AGENT") in (None, 0):  # not set by the user
            settings.set(
                "USER_AGENT", user_agent(settings.get("CRAWLER_CONTACT")), priority="addon"
            )
        # Last: the browser's context takes the User-Agent set above.
        render_config.configure(settings)
        if not settings.get("CRAWLER_CONTACT"):
            logger.warning(
                "CRAWLER_CONTACT is not set: site operators cannot reach you. "
                "Set -s CRAWLER_CONTACT=mailto:you@example.org (or a URL)."
            )
