"""A real HTTP receiver on 127.0.0.1, started by the test, that checks each channel's signature.

It verifies what the real service would: the Standard Webhooks signature of an integration's
webhook, DingTalk's signed URL, Feishu's signed body. It can answer 500, take longer than the
relay waits, or be down (its port closed) and come back on the same port. It keeps every request
it got and the messages it accepted, once each by their idempotency key, as a real receiver that
deduplicates would.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.clock import configured_clock

# A Standard Webhooks secret: "whsec_" and base64 of the key bytes.
WEBHOOK_KEY = b"valuegate-test-key-32-bytes-long"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(WEBHOOK_KEY).decode()
DINGTALK_SECRET = "SECdingtalk-test-secret"
FEISHU_SECRET = "feishu-test-secret"
TOLERANCE_SECONDS = 300


def receiver_time() -> float:
    """The receiver's clock, for its replay tolerance: the suite's (a test lasts seconds, not five minutes)."""
    return configured_clock().timestamp()


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    problem: str | None  # why the signature check failed; None when it passed

    def json(self):
        return json.loads(self.body)


def verify_standard_webhook(headers: dict[str, str], body: bytes) -> str | None:
    """The Standard Webhooks check, written from the specification (not with the sender's library)."""
    msg_id, timestamp, signatures = (
        headers.get("webhook-id"),
        headers.get("webhook-timestamp"),
        headers.get("webhook-signature"),
    )
    if not (msg_id and timestamp and signatures):
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    if abs(receiver_time() - int(timestamp)) > TOLERANCE_SECONDS:
        return "timestamp outside the tolerance"
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(WEBHOOK_KEY, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return None
    return "no v1 signature matches"


def verify_dingtalk(query: dict[str, str]) -> str | None:
    """DingTalk: sign = urlencode(base64(HMAC-SHA256(secret, timestamp + "\\n" + secret)))."""
    timestamp, sign = query.get("timestamp"), query.get("sign")
    if not (timestamp and sign):
        return "missing timestamp or sign"
    if abs(receiver_time() * 1000 - int(timestamp)) > TOLERANCE_SECONDS * 1000:
        return "timestamp outside the tolerance"
    to_sign = f"{timestamp}\n{DINGTALK_SECRET}".encode()
    expected = base64.b64encode(hmac.new(DINGTALK_SECRET.encode(), to_sign, hashlib.sha256).digest()).decode()
    return None if hmac.compare_digest(sign, expected) else "sign does not match"


def verify_feishu(body: dict) -> str | None:
    """Feishu: sign = base64(HMAC-SHA256(key = timestamp + "\\n" + secret, message = empty))."""
    timestamp, sign = body.get("timestamp"), body.get("sign")
    if not (timestamp and sign):
        return "missing timestamp or sign"
    if abs(receiver_time() - int(timestamp)) > TOLERANCE_SECONDS:
        return "timestamp outside the tolerance"
    key = f"{timestamp}\n{FEISHU_SECRET}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    return None if hmac.compare_digest(sign, expected) else "sign does not match"


@dataclass
class Receiver:
    """What the test controls: how the receiver answers, and what it got."""

    port: int = 0
    mode: str = "ok"  # "ok", "error" (500), "slow" (accepts, then answers after the relay gave up)
    slow_seconds: float = 2.0
    requests: list[Received] = field(default_factory=list)
    accepted: dict[str, Received] = field(default_factory=dict)  # by idempotency key, once each
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def check(self, received: Received) -> str | None:
        kind = received.path.strip("/").split("/")[0]
        if kind == "webhook":
            return verify_standard_webhook(received.headers, received.body)
        if kind == "dingtalk":
            return verify_dingtalk(received.query)
        if kind == "feishu":
            return verify_feishu(received.json())
        return None

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlparse(handler.path)
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        received = Received(parsed.path, dict(urllib.parse.parse_qsl(parsed.query)), headers, body, None)
        received.problem = self.check(received)
        key = headers.get("webhook-id") or headers.get("idempotency-key") or ""
        with self.lock:
            self.requests.append(received)
            mode = self.mode
            if received.problem is None and mode != "error":
                self.accepted.setdefault(key, received)
        if received.problem is not None:
            self.answer(handler, 401, {"errcode": 310000, "errmsg": received.problem})
        elif mode == "error":
            self.answer(handler, 500, {"error": "receiver failing"})
        else:
            if mode == "slow":
                time.sleep(self.slow_seconds)
            self.answer(handler, 200, {"errcode": 0, "code": 0, "errmsg": "ok"})

    @staticmethod
    def answer(handler: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        with contextlib.suppress(OSError):  # the relay gave up waiting and closed the connection
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's name)
                receiver.handle(self)

            def log_message(self, *args):  # quiet
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Down: the port is closed, connections are refused."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def accepted_on(self, kind: str) -> list[Received]:
        with self.lock:
            return [r for r in self.accepted.values() if r.path.strip("/").startswith(kind)]


@contextlib.contextmanager
def receiver():
    running = Receiver()
    running.start()
    try:
        yield running
    finally:
        running.stop()


def channels_at(url: str, *, events: tuple[str, ...] = (), selectable: bool = True) -> dict:
    """VALUEGATE_NOTIFICATION_CHANNELS with one channel of each kind, all pointed at `url`."""
    everything = {"events": list(events)} if events else {}
    return {
        "integrations": {"kind": "webhook", "url": f"{url}/webhook", "secret": WEBHOOK_SECRET, **everything},
        "dingtalk": {
            "kind": "dingtalk",
            "url": f"{url}/dingtalk/robot/send?access_token=t",
            "secret": DINGTALK_SECRET,
            "selectable": selectable,
            **everything,
        },
        "feishu": {
            "kind": "feishu",
            "url": f"{url}/feishu/open-apis/bot/v2/hook/x",
            "secret": FEISHU_SECRET,
            "selectable": selectable,
            **everything,
        },
        "wecom": {
            "kind": "wecom",
            "url": f"{url}/wecom/cgi-bin/webhook/send?key=k",
            "selectable": selectable,
            **everything,
        },
        "slack": {
            "kind": "slack",
            "url": f"{url}/slack/services/T/B/X",
            "selectable": selectable,
            **everything,
        },
        "teams": {"kind": "teams", "url": f"{url}/teams/workflows/x", "selectable": selectable, **everything},
    }
