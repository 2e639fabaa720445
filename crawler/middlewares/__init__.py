"""Downloader middlewares: the compliance gate (access guard, origin policy, response policy) and
the wire capture that keeps responses as received for the WARC."""
