"""Benchmarks of rightscrawl against a plain Scrapy spider (not part of the test suite)."""
