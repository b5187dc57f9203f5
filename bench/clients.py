"""HTTP as the shop's visitors send it, through the platform's router (HTTPS to the shopper,
`X-Forwarded-Proto: https` to the shop)."""

import http.client
import re
from urllib.parse import urlencode

ROUTER_HEADERS = {"X-Forwarded-Proto": "https"}  # what the platform's router adds


class Browser:
    """One shopper over one keep-alive connection, keeping its cookies (Secure ones too: the
    router speaks HTTPS to the shopper)."""

    def __init__(self, port: int, *, address: str = "") -> None:
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        # The shopper's own address, as the platform's router appends it (TRUSTED_PROXY_COUNT
        # is 1 in production): the per-client limits then count each shopper apart.
        forwarded = {"X-Forwarded-For": address} if address else {}
        self.router_headers = {**ROUTER_HEADERS, **forwarded}

    def request(self, method: str, path: str, *, form: dict | None = None, headers=None):
        all_headers = {**self.router_headers, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            all_headers["Origin"] = self.origin
        self.conn.request(method, path, body=body, headers=all_headers)
        response = self.conn.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response, content

    def csrf_token(self, html: bytes) -> str:
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if not found:
            raise RuntimeError("no CSRF token in the page")
        return found.group(1).decode()

    def close(self) -> None:
        self.conn.close()


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={**ROUTER_HEADERS, **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        conn.close()
