"""Keys that rightscrawl components keep in `Request.meta`."""

from __future__ import annotations

EVIDENCE = "rightscrawl_evidence"  # set on policy-document fetches: they bypass the page gate
SIGNALS = "rightscrawl_signals"  # origin signals read before fetching, carried to after
TDMREP_FILE = "rightscrawl_tdmrep_file"  # the tdmrep.json rule for the URL (TDMRep priority)
DECISION = "rightscrawl_decision"  # the kept Decision, read by the spider
CRAWL_DELAY = "rightscrawl_crawl_delay"  # seconds robots.txt asks between requests, if any
PREVIOUS = "rightscrawl_previous"  # PreviousCapture of a URL asked for conditionally
CONDITIONS = "rightscrawl_conditions"  # validator headers (and the 304) the re-crawl added
RENDER = "rightscrawl_render"  # True: render in the browser; False: never (RENDER_* settings)
# Why a page is rendered (crawler/render/auto.py: REASONS), recorded in `detail.rendered.reason`.
RENDER_REASON = "rightscrawl_render_reason"
RENDER_AUTO = "rightscrawl_render_auto"  # True: fetched plainly, rendered if it needs (render=auto)
CREDENTIALS_STRIPPED = "rightscrawl_credentials_stripped"  # True: the URL came with user:password@
# What the spider knows of a request that its decision records (crawler/middlewares/collect.py):
# {"kind": "image", "sitemap": {"url", "record", "lastmod"}}
PROVENANCE = "rightscrawl_provenance"
