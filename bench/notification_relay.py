"""Relay throughput to a local webhook receiver against a bare loop posting the same bodies.

Creates N notifications (default 10,000) in a fresh SQLite database, each going to one outgoing
webhook (Standard Webhooks, signed), and times the relay delivering them all: fan-out into
delivery rows, one locked row per transaction, signing, posting, settling. The baseline posts the
very bodies and headers the relay sent, with the same HTTP client (urllib, as the channels use),
in a bare loop with no database. Both run against the same receiver on 127.0.0.1, alternately,
ROUNDS times; the medians and their ratio (relay throughput / bare throughput, goal >= 0.5x)
are printed.

    .venv/bin/python bench/notification_relay.py [--notifications N] [--rounds R]
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "whsec_" + base64.b64encode(b"bench-secret-key-of-32-bytes-len").decode()


def _serve(port_out) -> None:
    """The receiver: answers every POST with 200 and keeps what it got until asked for it."""
    received: list[list[str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/received":  # hand over what was received, and forget it
                answer = json.dumps(received).encode()
                received.clear()
            else:
                received.append([body.decode(), json.dumps({k.lower(): v for k, v in self.headers.items()})])
                answer = b"{}"
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.send(server.server_address[1])
    server.serve_forever()


class Receiver:
    """A webhook receiver on 127.0.0.1 in a process of its own, as a real one would be: sharing
    the benchmark's interpreter lock would slow whichever side waits on the database more."""

    def __init__(self):
        ours, theirs = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_serve, args=(theirs,), daemon=True)
        self.process.start()
        port = ours.recv()
        self.url = f"http://127.0.0.1:{port}/webhook"
        self._received_url = f"http://127.0.0.1:{port}/received"

    def take_received(self) -> list[tuple[bytes, dict[str, str]]]:
        with urllib.request.urlopen(
            urllib.request.Request(self._received_url, data=b"", method="POST")
        ) as answer:
            return [(body.encode(), json.loads(headers)) for body, headers in json.loads(answer.read())]


def tidy_as_autovacuum_would(connection) -> None:
    """Dead row versions of earlier rounds removed and fresh statistics, as autovacuum keeps them
    in a database that runs for more than the minute a round takes (PostgreSQL; SQLite keeps no
    dead versions in its indexes). Without it each round would walk the index entries the rounds
    before it left, and the planner would choose from an empty table's statistics."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE governance_notification, governance_notificationdelivery")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--database",
        default="",
        help="a DATABASE_URL to run on (emptied first), e.g. postgres://postgres@127.0.0.1:5432/valuegate_bench; "
        "default a fresh SQLite file",
    )
    args = parser.parse_args()

    receiver = Receiver()
    workdir = tempfile.mkdtemp(prefix="valuegate-relay-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = args.database or f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
    os.environ["VALUEGATE_NOTIFICATION_CHANNELS"] = json.dumps(
        {"bi": {"kind": "webhook", "url": receiver.url, "secret": SECRET, "events": ["other"]}}
    )
    os.environ["VALUEGATE_NOTIFICATION_DEFAULT_CHANNELS"] = ""  # the webhook alone: no e-mail
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from governance.notifications.channels import post_json
    from governance.notifications.delivery import relay
    from governance.notifications.models import Notification, NotificationDelivery

    call_command("migrate", verbosity=0, interactive=False)
    NotificationDelivery.objects.all().delete()
    Notification.objects.all().delete()
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"email": "bench@example.test"}
    )
    n = args.notifications
    relay_times, bare_times = [], []
    for round_ in range(args.rounds):
        now = timezone.now()
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient=user,
                    event_key=f"bench-{round_}-{i}",
                    subject=f"Event {i}",
                    body="B" * 200,
                    created_at=now,
                )
                for i in range(n)
            ],
            batch_size=1000,
        )
        tidy_as_autovacuum_would(connection)
        receiver.take_received()
        started = time.perf_counter()
        sent = 0
        while True:
            result = relay(limit=n)
            sent += result.sent
            if result.sent + result.failed == 0:
                break
        relay_times.append(time.perf_counter() - started)
        assert sent == n, f"relayed {sent} of {n}"
        bodies = receiver.take_received()
        assert len(bodies) == n, f"the receiver got {len(bodies)} of {n}"

        started = time.perf_counter()
        for body, headers in bodies:
            post_json(
                receiver.url,
                body,
                {k: headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")},
            )
        bare_times.append(time.perf_counter() - started)
        receiver.take_received()  # the receiver kept the bare loop's too: the same work each time
        print(
            f"  round {round_ + 1}: relay {relay_times[-1]:.2f} s, bare loop {bare_times[-1]:.2f} s",
            flush=True,
        )
    assert NotificationDelivery.objects.filter(state="sent").count() == n * args.rounds

    ours, bare = statistics.median(relay_times), statistics.median(bare_times)
    ratio = bare / ours
    print(f"database: {connection.vendor}")
    print(f"{n} webhook notifications: relay {n / ours:,.0f}/s, bare loop {n / bare:,.0f}/s")
    print(
        f"relay throughput / bare loop throughput: {ratio:.2f}x (goal >= 0.5x: {'met' if ratio >= 0.5 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
