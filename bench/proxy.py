"""nginx with `proxy_cache` in front of gunicorn: the stand-in for a CDN (README, « Un CDN
devant la boutique »). It caches what the shop's headers allow and nothing else: the stock
API's `public, max-age=0, s-maxage=STOCK_SHARED_SECONDS`, keyed on the URL, one request to
the shop at a time per key (`proxy_cache_lock`), the others answered from the cache meanwhile
(`proxy_cache_use_stale updating`). Every other path passes through, uncached, as a CDN
passes pages that say `private` or `no-cache`.

Each request that reached gunicorn from the cached location is written to a log (time, URL,
cache status); `upstream_polls` reads it back.
"""

import os
import shutil
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from servers import stop, wait_for_port

CONFIG = """\
{user}daemon off;
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; multi_accept on; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    # Only the requests that reached the shop: a cache hit has no upstream address.
    log_format upstream '$msec $upstream_cache_status $upstream_status $request_uri';
    proxy_cache_path {cache} levels=1:2 keys_zone=stock:10m inactive=10m use_temp_path=off;
    upstream shop {{ server 127.0.0.1:{upstream}; keepalive 32; }}
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;  # as the visitor sent it; other headers pass unchanged
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location /api/products {{
            proxy_pass http://shop;
            proxy_cache stock;
            proxy_cache_key $request_uri;
            proxy_cache_lock on;
            proxy_cache_use_stale updating;
            proxy_cache_revalidate on;
            access_log {dir}/upstream.log upstream buffer=64k flush=1s if=$upstream_addr;
        }}
        location / {{
            proxy_pass http://shop;
        }}
    }}
}}
"""


class Proxy:
    """nginx on `port`, in front of the shop on `upstream`; its files in a folder of its own
    (the cache in memory, /dev/shm, where there is one)."""

    def __init__(self, port: int, upstream: int, *, workers: int = 2) -> None:
        self.port = port
        memory = Path("/dev/shm")
        parent = memory if memory.is_dir() else None
        self.dir = Path(tempfile.mkdtemp(prefix="boutique-nginx-", dir=parent))
        config = self.dir / "nginx.conf"
        values = {"dir": self.dir, "cache": self.dir / "cache", "workers": workers}
        # Started by root, nginx's workers would run as nobody, who cannot enter this folder.
        values["user"] = "user root;\n" if os.geteuid() == 0 else ""
        config.write_text(CONFIG.format(upstream=upstream, port=port, **values))
        self.log = self.dir / "upstream.log"
        command = [shutil.which("nginx") or "nginx", "-c", str(config), "-p", str(self.dir)]
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE)
        wait_for_port(port, self.process, f"nginx (config: {config})")

    def workers(self) -> list[int]:
        from cpu import children

        return children(self.process.pid)

    def errors(self) -> list[str]:
        """The lines of nginx's error log (warnings and worse)."""
        log = self.dir / "error.log"
        return log.read_text().splitlines() if log.exists() else []

    def stop(self) -> None:
        stop(self.process)
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class UpstreamPolls:
    """What reached gunicorn through the cached location, per distinct URL (id set)."""

    total: int
    id_sets: int
    most: int  # the most requests any one id set sent to gunicorn
    closest_s: float | None  # the shortest interval between two of one id set's requests


def upstream_polls(log: Path, *, after: float = 0.0, until: float = float("inf")) -> UpstreamPolls:
    """Read the proxy's upstream log (flushed every second: stop nginx or wait first)."""
    times: dict[str, list[float]] = defaultdict(list)
    for line in log.read_text().splitlines() if log.exists() else []:
        stamp, _status, _upstream, uri = line.split(" ", 3)
        if after <= float(stamp) <= until and urlsplit(uri).path.startswith("/api/products"):
            times[uri].append(float(stamp))
    for stamps in times.values():
        stamps.sort()  # each nginx worker writes its own buffer
    gaps = [b - a for stamps in times.values() for a, b in zip(stamps, stamps[1:], strict=False)]
    return UpstreamPolls(
        total=sum(map(len, times.values())),
        id_sets=len(times),
        most=max(map(len, times.values()), default=0),
        closest_s=min(gaps) if gaps else None,
    )
