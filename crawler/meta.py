"""Keys that rightscrawl components keep in `Request.meta`."""

from __future__ import annotations

EVIDENCE = "rightscrawl_evidence"  # set on policy-document fetches: they bypass the page gate
SIGNALS = "rightscrawl_signals"  # signals read before fetching (robots.txt), carried to after
DECISION = "rightscrawl_decision"  # the kept Decision, read by the spider
