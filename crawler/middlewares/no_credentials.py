"""Lawful access: the crawler never sends credentials.

Runs at priority 995, after every other middleware has added its headers (DefaultHeaders at 400
would add an `Authorization` from DEFAULT_REQUEST_HEADERS), and removes credential headers.
Scrapy's HttpAuthMiddleware is switched off by the add-on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy import Request, Spider

logger = logging.getLogger(__name__)

CREDENTIAL_HEADERS = (b"Authorization", b"Proxy-Authorization")


class NoCredentialsMiddleware:
    def __init__(self) -> None:
        self.warned: set[bytes] = set()

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        for header in CREDENTIAL_HEADERS:
            if header in request.headers:
                del request.headers[header]
                if header not in self.warned:
                    self.warned.add(header)
                    logger.warning(
                        "Removed %(header)s from requests: rightscrawl never sends credentials",
                        {"header": header.decode()},
                    )
