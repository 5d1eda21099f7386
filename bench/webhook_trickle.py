"""The trickling receiver of issue 14 (on demand): how long does one webhook push wait?

    .venv/bin/python bench/webhook_trickle.py [--timeout 5] [--bytes 40] [--every 1.0]

A receiver on loopback answers every POST with a status line and headers of `--bytes`
bytes, one byte every `--every` seconds; each single read succeeds in time, so only a
deadline on the whole attempt stops the sender. Prints how long `post_json(timeout_s=…)`
took and what it returned. Needs no database. To measure an older tree, copy this file
into its bench/ and run it from there (the tree's `operators.webhooks` is imported).
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from operators.webhooks import post_json  # noqa: E402


def trickling_receiver(answer: bytes, every_s: float) -> str:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def handle(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            for byte in answer:
                conn.sendall(bytes([byte]))
                time.sleep(every_s)
        except OSError:
            pass  # the sender hung up
        finally:
            conn.close()

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/hook"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--bytes", type=int, default=40)
    parser.add_argument("--every", type=float, default=1.0)
    args = parser.parse_args()
    head = b"HTTP/1.1 200 OK\r\nX-Slow: "
    answer = head + b"." * max(0, args.bytes - len(head) - 4) + b"\r\n\r\n"
    url = trickling_receiver(answer, args.every)
    started = time.monotonic()
    result = post_json(url, b"{}", {}, timeout_s=args.timeout, allow_private=True)
    took = time.monotonic() - started
    print(
        f"post_json(timeout_s={args.timeout:g}) against {len(answer)} bytes at one per "
        f"{args.every:g} s: {took:.2f} s, status {result.status_code}, "
        f"error {result.error or '-'!r}"
    )


if __name__ == "__main__":
    main()
