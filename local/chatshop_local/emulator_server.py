"""Serves moto's AWS emulator with keep-alive connections (waitress).

moto's own server (werkzeug's development server) closes the connection after every response,
so each AWS call of the local stack paid for a new TCP connection. Served by waitress, the same
WSGI application keeps connections open, which makes an emulated call several times faster.
"""

from __future__ import annotations

import argparse
import logging

from moto.server import DomainDispatcherApplication, create_backend_app
from waitress import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" is expected under load
    application = DomainDispatcherApplication(create_backend_app)
    serve(
        application, host=args.host, port=args.port, threads=args.threads, ident="chatshop-aws", _quiet=True
    )


if __name__ == "__main__":
    main()
