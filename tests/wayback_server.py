"""pywb's `wayback` replay app on a loopback port the system picks, for tests/test_replay.py.

Runs in the separate pywb virtual environment (pywb pins an old redis that cannot share ours):

    python tests/wayback_server.py [wayback options]

in the folder holding `collections/`. The app is the one the `wayback` command serves
(`WaybackCli`), on 127.0.0.1 port 0; the port bound is printed as one line, and the server stops
when its standard input closes (so it never outlives the test that started it).
"""

from gevent.monkey import patch_all

patch_all()

import contextlib  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402
from pywb.apps.cli import WaybackCli  # noqa: E402
from pywb.utils.geventserver import RequestURIWSGIHandler  # noqa: E402


def main() -> None:
    with contextlib.redirect_stdout(sys.stderr):  # pywb prints a note when it has no config.yaml
        cli = WaybackCli(args=["--bind", "127.0.0.1", "--port", "0", *sys.argv[1:]])
    server = WSGIServer(
        ("127.0.0.1", 0), cli.application, handler_class=RequestURIWSGIHandler, log=None
    )
    server.init_socket()
    print(server.address[1], flush=True)

    def stop_on_stdin_eof() -> None:
        gevent.get_hub().threadpool.apply(sys.stdin.buffer.read)
        os._exit(0)

    gevent.spawn(stop_on_stdin_eof)
    server.serve_forever()


if __name__ == "__main__":
    main()
