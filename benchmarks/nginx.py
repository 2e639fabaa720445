"""The benchmark site served by nginx from static files (the default server of `run.py`).

The files are written once per site size and version of `site.py` under
`~/.cache/rightscrawl-bench/` (or `$XDG_CACHE_HOME`), then reused. nginx runs as one foreground
process (`daemon off`, `master_process off`) with its own prefix, configuration, pid file, error
log and temp paths in the run's temporary directory, no access log, on a loopback port.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks import site

CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    types {{ text/plain txt; }}
    default_type text/html;
    charset utf-8;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
    }}
}}
"""


def binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rightscrawl-bench"


def static_site(pages: int, *, script: bool = False) -> Path:
    """The site's files, generated once: reused while `site.py` is unchanged."""
    version = hashlib.sha256(Path(site.__file__).read_bytes()).hexdigest()[:12]
    name = f"site-{pages}{'-script' if script else ''}-{version}"
    target = cache_dir() / name
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        site.write_static(staging / "root", pages, script=script)
        try:
            (staging / "root").rename(target)  # atomic: a half-written site is never reused
        except OSError:
            if not target.is_dir():
                raise
            # another run wrote the same site meanwhile: use theirs
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(root: Path, work: Path, *, attempts: int = 5) -> tuple[subprocess.Popen, str]:
    """nginx serving `root` on a loopback port; returns the process and the origin URL.

    The port is picked free and nginx binds it a moment later; if another process took it
    meanwhile, nginx exits at once and the next attempt picks another.
    """
    nginx = binary()
    assert nginx
    work.mkdir(parents=True, exist_ok=True)
    for _ in range(attempts):
        port = _free_port()
        conf = work / "nginx.conf"
        conf.write_text(CONF.format(work=work, port=port, root=root))
        err = work / "error.log"
        err.unlink(missing_ok=True)
        proc = subprocess.Popen(
            [nginx, "-p", str(work), "-c", str(conf), "-e", str(err)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(work / "nginx.stderr", "wb"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return proc, f"http://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    detail = ""
    for name in ("nginx.stderr", "error.log"):
        path = work / name
        if path.exists():
            detail += path.read_text(errors="replace")
    raise SystemExit(f"nginx did not start: {detail.strip()[-500:]}")
