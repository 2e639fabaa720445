"""Settings of the rightscrawl Scrapy project. Every one can be overridden with `-s NAME=VALUE`.

The compliance components are installed by the add-on (`crawler.addon.Rightscrawl`), which also
holds the defaults of our own settings (WARC_*, PROVENANCE_*, POLICY_*, CRAWLER_CONTACT,
ALLOW_PRIVATE_ADDRESSES).
"""

BOT_NAME = "rightscrawl"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

ADDONS = {"crawler.addon.Rightscrawl": 0}

# The add-on's defaults (WARC_*, PROVENANCE_*, POLICY_*, …) apply when a crawler starts; the
# offline commands (verify, audit, export, db …) and `scrapy settings` read the project's
# settings without one, so the project states the same defaults here.
from crawler.addon import DEFAULTS as _ADDON_DEFAULTS  # noqa: E402

globals().update(_ADDON_DEFAULTS)

# Politeness: at most 2 requests at a time per origin, adaptive delay.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Bounded bodies: the limit applies to the decoded body too (compression bombs).
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
DOWNLOAD_TIMEOUT = 60

# No listening ports (also enforced by the add-on).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
ROBOTSTXT_OBEY = False  # replaced by the origin policy middleware (RFC 9309, fail closed)

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"  # a policy file answering 503 is an outcome, not a crash
