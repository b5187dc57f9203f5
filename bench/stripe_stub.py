"""A tiny Stripe-compatible API for `make bench`: Commander needs Stripe to answer.

It creates Checkout Sessions (`POST /v1/checkout/sessions`) and expires them
(`POST /v1/checkout/sessions/<id>/expire`); anything else is a 404 in Stripe's error shape.
It takes no payment and sends no event: the bench signs `checkout.session.completed` itself
with the webhook secret, as Stripe does, for the sessions it chooses to pay. The shop runs
with DEBUG off and real-looking secrets, so its built-in offline Stripe is refused, as in
production; this stub only stands where api.stripe.com would be.
"""

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

_numbers = itertools.count(1)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    latency = 0.0  # seconds before each answer, as api.stripe.com's round trip

    def log_message(self, format, *args):
        pass

    def _send(self, status: int, payload: dict) -> None:
        time.sleep(self.latency)
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", f"req_bench_{next(_numbers)}")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if parts == ["v1", "checkout", "sessions"]:
            session_id = f"cs_test_bench_{next(_numbers):06d}"
            self._send(
                200,
                {
                    "id": session_id,
                    "object": "checkout.session",
                    "status": "open",
                    "payment_status": "unpaid",
                    "client_reference_id": form.get("client_reference_id", [""])[0],
                    "expires_at": int(form.get("expires_at", [time.time() + 3600])[0]),
                    "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                },
            )
        elif (
            len(parts) == 5 and parts[:3] == ["v1", "checkout", "sessions"] and parts[4] == "expire"
        ):
            self._send(200, {"id": parts[3], "object": "checkout.session", "status": "expired"})
        else:
            self._not_found()

    def do_GET(self):
        self._not_found()

    def _not_found(self) -> None:
        self._send(
            404,
            {"error": {"type": "invalid_request_error", "message": f"No such path: {self.path}"}},
        )


def start(port: int, *, latency: float = 0.0) -> ThreadingHTTPServer:
    """Serve on 127.0.0.1:`port` in a daemon thread; `server.shutdown()` stops it. Each
    answer waits `latency` seconds first, as Stripe's own time to answer."""
    handler = type("Handler", (_Handler,), {"latency": latency})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
