"""Custom Scrapy signals of rightscrawl (send with `crawler.signals.send_catch_log`)."""

from __future__ import annotations

# A URL was decided before or after fetching and will not reach the spider: kwargs `decision`.
# (Kept pages travel to the pipelines as items, with their decision.)
decision_made = object()

# A policy document (robots.txt …) was fetched or failed to fetch: kwargs `evidence`
# (`crawler.items.EvidenceFetch`). Pipelines archive it in the WARC and the database.
evidence_fetched = object()
