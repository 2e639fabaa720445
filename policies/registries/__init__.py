"""Dated data the policies rely on: AI-training agent tokens, declared reservations, blocklists.

Every entry names its source and date; loaders reject malformed entries with the file and line.
"""
