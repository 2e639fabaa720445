"""Scrapy's request dupefilter, written through to JOBDIR at once.

Scrapy's RFPDupeFilter buffers `requests.seen`; a crawl killed with SIGKILL loses the fingerprints
still in the buffer, and on resume fetches (and would archive) those pages again. Flushing each
fingerprint keeps a resumed crawl from capturing a page twice. Without JOBDIR nothing is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.dupefilters import RFPDupeFilter

if TYPE_CHECKING:
    from scrapy import Request


class DurableDupeFilter(RFPDupeFilter):
    def request_seen(self, request: Request) -> bool:
        seen = super().request_seen(request)
        if not seen and self.file:
            self.file.flush()
        return seen
