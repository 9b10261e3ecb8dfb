#!/usr/bin/env python3
"""A webhook receiver built on the Standard Webhooks reference library.

It checks, with an implementation independent of the mock, that the mock's deliveries are
Standard Webhooks: every POST is handed to `standardwebhooks.Webhook(secret).verify(body,
headers)`; the receiver answers 204 when that accepts it and 401 when it does not, which is
how a receiver tells the mock it could not verify a signature (the mock's test send then
answers SIGNATURE_FAILED). One line per delivery goes to stdout.

    python3 -m venv /tmp/swh && /tmp/swh/bin/pip install standardwebhooks
    WEBHOOK_SECRET=whsec_... /tmp/swh/bin/python scripts/standardwebhooks_receiver.py --port 9000

The secret is read from WEBHOOK_SECRET (or --secret), so it need not appear in the process
list. Listens on 127.0.0.1 only.
"""

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9000, help="port on 127.0.0.1 (0: any)")
    parser.add_argument("--secret", default=os.environ.get("WEBHOOK_SECRET"), help="whsec_... (default: $WEBHOOK_SECRET)")
    args = parser.parse_args()
    if not args.secret:
        parser.error("give the endpoint's secret with WEBHOOK_SECRET or --secret")
    webhook = Webhook(args.secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                payload = webhook.verify(body, headers)
            except WebhookVerificationError as error:
                self.answer(401, f"rejected {headers.get('webhook-id')}: {error}")
                return
            self.answer(204, f"verified {headers.get('webhook-id')} {payload.get('type')} {json.dumps(payload.get('data'))}")

        def answer(self, status: int, line: str) -> None:
            print(f"{status} {line}", flush=True)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"receiver listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
