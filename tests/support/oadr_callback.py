"""A small real HTTP server standing in for a VEN's subscription callback (OpenADR 3.1):
it answers the VTN's challenge (`GET ?echo=<value>` → 200 with the value as its body) and
records the notifications POSTed to it."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class CallbackServer:
    host: str = "127.0.0.1"
    echo_wrong: bool = False  # answer the challenge with another value
    challenges: list[dict] = field(default_factory=list)
    notifications: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    arrived: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/openadr/callback"

    def start(self) -> CallbackServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                echo = parse_qs(urlsplit(self.path).query).get("echo", [""])[0]
                owner.challenges.append(
                    {"echo": echo, "authorization": self.headers.get("Authorization")}
                )
                body = (echo + "-not" if owner.echo_wrong else echo).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.notifications.append(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "raw": raw,
                        "body": json.loads(raw),
                    }
                )
                owner.arrived.set()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((self.host, 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
