"""The compliance layer as a Scrapy add-on: `ADDONS = {"crawler.addon.Rightscrawl": 0}`.

`update_settings` runs after every settings source (project, spider, `-s`), so it can put the
gate in place in any Scrapy project and build the User-Agent from `CRAWLER_CONTACT`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crawler import PRODUCT_TOKEN, __version__
from crawler.config import force
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
    "crawler.middlewares.access_guard.AccessGuardMiddleware": 90,
    "crawler.middlewares.origin_policy.OriginPolicyMiddleware": 100,
    "crawler.middlewares.response_policy.ResponsePolicyMiddleware": 110,
    # After the gate's process_request (a reserved URL is refused before validators are added).
    "crawler.middlewares.recrawl.RecrawlMiddleware": 120,
    # Off unless RENDER_JS / RENDER_URL_PATTERNS: marks pages for the browser, after the gate.
    "crawler.render.middleware.RenderMiddleware": 105,
    "crawler.middlewares.politeness.PolitenessMiddleware": 990,
    "crawler.middlewares.no_credentials.NoCredentialsMiddleware": 995,
    "crawler.middlewares.wire_capture.WireCaptureMiddleware": 950,
}
ITEM_PIPELINES = {
    "pipelines.warc.WarcPipeline": 300,
    "pipelines.provenance.ProvenancePipeline": 400,
}
EXTENSIONS = {"crawler.gc_freeze.FreezeStartupObjects": 0, "crawler.run_lock.RunLock": 0}
DEFAULTS = {
    "WARC_DIR": "data/warc",
    "WARC_PREFIX": "rightscrawl",
    "WARC_MAX_SIZE": 1024**3,
    "PROVENANCE_DB_URL": "sqlite:///data/provenance.sqlite",
    "PROVENANCE_BATCH_SIZE": 500,
    "PROVENANCE_FLUSH_SECONDS": 5.0,
    "POLICY_PROFILE": "strict",
    "POLICY_CACHE_SECONDS": 24 * 3600.0,
    "POLICY_REGISTRIES": [str(DECLARED_DIR)],
    "POLITENESS_MAX_CRAWL_DELAY": 60.0,
    "POLITENESS_RETRY_AFTER_MAX": 300.0,
    "POLITENESS_ORIGIN_MAX_ERRORS": 10,
    "POLITENESS_MAX_PAGES_PER_ORIGIN": 0,
    "CRAWLER_CONTACT": None,
    "ALLOW_PRIVATE_ADDRESSES": False,
    "RECRAWL_ENABLED": True,
    "DISTRIBUTED_REDIS_URL": None,
    "DISTRIBUTED_CRAWL_ID": None,
    "DISTRIBUTED_DOWNLOAD_DELAY": 0.0,
    "DISTRIBUTED_WORKER_TIMEOUT": 30.0,
}


def user_agent(contact: str | None) -> str:
    if contact:
        return f"{PRODUCT_TOKEN}/{__version__} (+{contact})"
    return f"{PRODUCT_TOKEN}/{__version__}"


class Rightscrawl:
    def update_settings(self, settings: BaseSettings) -> None:
        for name, value in DEFAULTS.items():
            settings.setdefault(name, value)
        for name, value in DOWNLOADER_MIDDLEWARES.items():
            settings["DOWNLOADER_MIDDLEWARES"][name] = value
        for table, components in (("ITEM_PIPELINES", ITEM_PIPELINES), ("EXTENSIONS", EXTENSIONS)):
            for name, value in components.items():
                # None: switched off on purpose (`scrapy policy explain` writes nothing).
                if not (name in settings[table] and settings[table][name] is None):
                    settings[table][name] = value
        force(settings, "ROBOTSTXT_OBEY", False)  # ours applies RFC 9309
        if settings.get("DUPEFILTER_CLASS") == "scrapy.dupefilters.RFPDupeFilter":
            settings.set(
                "DUPEFILTER_CLASS", "crawler.dupefilter.DurableDupeFilter", priority="addon"
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
