"""rightscrawl: the Scrapy project (spider, middlewares, commands) around `policies/`."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rightscrawl")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

PRODUCT_TOKEN = "rightscrawl"  # the robots.txt product token (RFC 9309 §2.2.1)
