"""Passwords in service URLs (PROVENANCE_DB_URL, DISTRIBUTED_REDIS_URL) stay out of messages.

Anything that echoes such a URL — an error message, a log line, the settings a run records in the
database — shows it through `hide_password`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# For what urllib cannot split into an authority (`:pw@host`, `user:pw@host/db`, `http://[x:pw@y`):
# everything between the first "user:" and the "@" that ends the authority.
_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:/*)?[^:@/?#]*:)[^/?#]*@")


def hide_password(url: str) -> str:
    """`url` with the password of its user part (if any) written as `***`."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        password = None
    if password is None:
        return _USERINFO.sub(r"\1***@", url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
