"""Channels: e-mail, signed webhooks and chat bots, behind one small interface.

A channel turns a Message into what its service expects and sends it; it raises on any failure
(the delivery records the error and tries again later). Which channels exist is configured in
settings: "email" always, and each entry of VALUEGATE_NOTIFICATION_CHANNELS, e.g.

    {"integrations": {"kind": "webhook", "url": "https://bi.example/hooks", "secret": "whsec_…",
                      "events": ["review.decided", "initiative.transitioned"]},
     "legal-dingtalk": {"kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=…",
                        "secret": "SEC…", "selectable": true}}

`events` sends every such event to the channel once (integrations, a committee's group chat);
`selectable` offers the channel on people's preferences pages.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from governance.notifications.text import body_for, subject_for

logger = logging.getLogger(__name__)

EMAIL = "email"


@dataclass(frozen=True)
class Message:
    """What every channel says: the initiative, what happened, what to do, and where."""

    delivery_key: str  # fixed per delivery: the receiver's idempotency key
    event: str
    event_key: str
    subject: str
    summary: str
    to_do: str
    link: str
    occurred_at: dt.datetime
    initiative_id: int | None = None
    initiative_title: str = ""
    recipient_email: str = ""

    def data(self) -> dict[str, Any]:
        return {
            "event_key": self.event_key,
            "initiative": (
                {"id": self.initiative_id, "title": self.initiative_title} if self.initiative_id else None
            ),
            "subject": self.subject,
            "summary": self.summary,
            "to_do": self.to_do,
            "link": self.link,
        }


class DeliveryFailed(Exception):
    """The receiver refused or did not answer; the delivery tries again later."""


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    def send(self, message: Message) -> None: ...


def _timeout() -> float:
    return float(settings.VALUEGATE_NOTIFICATION_TIMEOUT)


def post_json(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> bytes:
    """POST `body` as JSON; the answer's body when the receiver took it (2xx), else DeliveryFailed."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "ValueGate",
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=_timeout()) as response:  # noqa: S310  (URLs from settings)
            return response.read(65536)
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"HTTP {error.code} from the receiver") from None


def _open_in_valuegate() -> str:
    """The label of the link or button to the admin page, in the language active when sending."""
    # Translators: the label of a link or button in a chat message, opening the admin page.
    return _("Open in ValueGate")


def _chat_text(message: Message, kind: str) -> tuple[str, str]:
    """The title and text of a chat message: what happened, what to do, and the link."""
    title = subject_for(kind, message.subject)
    parts = [body_for(kind, message.summary)]
    if message.to_do:
        parts.append(body_for(kind, message.to_do))
    return title, "\n\n".join(p for p in parts if p)


def _check_errcode(answer: bytes, *keys: str) -> None:
    """DingTalk, WeCom and Feishu answer 200 with an error code in the body when they refuse."""
    try:
        parsed = json.loads(answer or b"{}")
    except ValueError:
        return
    if not isinstance(parsed, dict):
        return
    for key in keys:
        code = parsed.get(key)
        if code not in (None, 0):
            raise DeliveryFailed(f"{key} {code}: {parsed.get('errmsg') or parsed.get('msg') or ''}".strip())


@dataclass(frozen=True)
class EmailChannel:
    name: str = EMAIL
    kind: str = "email"

    def send(self, message: Message) -> None:
        if not message.recipient_email:
            raise DeliveryFailed("The recipient has no e-mail address.")
        text = body_for("email", message.summary)
        if message.to_do:
            text += "\n\n" + body_for("email", message.to_do)
        if message.link:
            text += f"\n\n{message.link}"
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("<> ") or "valuegate"
        EmailMessage(
            subject_for("email", message.subject),
            text,
            settings.DEFAULT_FROM_EMAIL,
            [message.recipient_email],
            headers={"Message-ID": f"<valuegate.{message.delivery_key}@{domain}>"},
        ).send()


@dataclass(frozen=True)
class WebhookChannel:
    """Standard Webhooks (standardwebhooks.com): webhook-id, webhook-timestamp, webhook-signature."""

    name: str
    url: str
    secret: str
    kind: str = "webhook"

    def send(self, message: Message) -> None:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        body = json.dumps(
            {
                "type": message.event,
                "timestamp": message.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                "data": message.data(),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        signature = Webhook(self.secret).sign(msg_id=message.delivery_key, timestamp=now, data=body)
        post_json(
            self.url,
            body.encode(),
            {
                "webhook-id": message.delivery_key,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signature,
            },
        )


@dataclass(frozen=True)
class DingTalkChannel:
    """DingTalk (钉钉) custom robot; with a secret, signed: timestamp and sign in the URL."""

    name: str
    url: str
    secret: str = ""
    kind: str = "dingtalk"

    def signed_url(self, timestamp_ms: int) -> str:
        if not self.secret:
            return self.url
        to_sign = f"{timestamp_ms}\n{self.secret}".encode()
        digest = hmac.new(self.secret.encode(), to_sign, hashlib.sha256).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}timestamp={timestamp_ms}&sign={sign}"

    def send(self, message: Message) -> None:
        title, text = _chat_text(message, self.kind)
        markdown = f"### {title}\n\n{text}" + (
            f"\n\n[{_open_in_valuegate()}]({message.link})" if message.link else ""
        )
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
        timestamp_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
        answer = post_json(
            self.signed_url(timestamp_ms),
            json.dumps(body, ensure_ascii=False).encode(),
            {"Idempotency-Key": message.delivery_key},
        )
        _check_errcode(answer, "errcode")


@dataclass(frozen=True)
class FeishuChannel:
    """Feishu / Lark (飞书) custom bot; with a secret, signed: timestamp and sign in the body."""

    name: str
    url: str
    secret: str = ""
    kind: str = "feishu"

    def sign(self, timestamp: int) -> str:
        # Feishu's scheme: the key is "timestamp\nsecret", the message signed is empty.
        key = f"{timestamp}\n{self.secret}".encode()
        return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()

    def send(self, message: Message) -> None:
        title, text = _chat_text(message, self.kind)
        content: list[list[dict[str, str]]] = [
            [{"tag": "text", "text": line}] for line in text.split("\n") if line
        ]
        if message.link:
            content.append([{"tag": "a", "text": _open_in_valuegate(), "href": message.link}])
        body: dict[str, Any] = {
            "msg_type": "post",
            "content": {"post": {"zh_cn": {"title": title, "content": content}}},
        }
        if self.secret:
            timestamp = int(dt.datetime.now(dt.UTC).timestamp())
            body = {"timestamp": str(timestamp), "sign": self.sign(timestamp), **body}
        answer = post_json(
            self.url, json.dumps(body, ensure_ascii=False).encode(), {"Idempotency-Key": message.delivery_key}
        )
        _check_errcode(answer, "code", "StatusCode")


@dataclass(frozen=True)
class WeComChannel:
    """WeCom (企业微信) group robot: the key in its URL is its only secret."""

    name: str
    url: str
    kind: str = "wecom"

    def send(self, message: Message) -> None:
        title, text = _chat_text(message, self.kind)
        markdown = f"**{title}**\n{text}" + (
            f"\n[{_open_in_valuegate()}]({message.link})" if message.link else ""
        )
        body = {"msgtype": "markdown", "markdown": {"content": markdown}}
        answer = post_json(
            self.url, json.dumps(body, ensure_ascii=False).encode(), {"Idempotency-Key": message.delivery_key}
        )
        _check_errcode(answer, "errcode")


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class SlackChannel:
    """Slack incoming webhook (Block Kit)."""

    name: str
    url: str
    kind: str = "slack"

    def send(self, message: Message) -> None:
        title, text = _chat_text(message, self.kind)
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(text) or " "}},
        ]
        if message.link:
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": _open_in_valuegate()},
                            "url": message.link,
                        }
                    ],
                }
            )
        body = {"text": title, "blocks": blocks}
        post_json(
            self.url, json.dumps(body, ensure_ascii=False).encode(), {"Idempotency-Key": message.delivery_key}
        )


@dataclass(frozen=True)
class TeamsChannel:
    """Microsoft Teams incoming webhook (Workflows), an Adaptive Card."""

    name: str
    url: str
    kind: str = "teams"

    def send(self, message: Message) -> None:
        title, text = _chat_text(message, self.kind)
        card: dict[str, Any] = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True},
                {"type": "TextBlock", "text": text, "wrap": True},
            ],
        }
        if message.link:
            card["actions"] = [{"type": "Action.OpenUrl", "title": _open_in_valuegate(), "url": message.link}]
        body = {
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        }
        post_json(
            self.url, json.dumps(body, ensure_ascii=False).encode(), {"Idempotency-Key": message.delivery_key}
        )


@dataclass(frozen=True)
class MisconfiguredChannel:
    name: str
    problem: str
    kind: str = "misconfigured"

    def send(self, message: Message) -> None:
        raise DeliveryFailed(f"The channel {self.name!r} is misconfigured: {self.problem}")


KINDS = {
    "webhook": WebhookChannel,
    "dingtalk": DingTalkChannel,
    "feishu": FeishuChannel,
    "lark": FeishuChannel,
    "wecom": WeComChannel,
    "slack": SlackChannel,
    "teams": TeamsChannel,
}


@dataclass(frozen=True)
class ChannelConfig:
    channel: Channel
    events: frozenset[str] = field(default_factory=frozenset)
    selectable: bool = False


def configured() -> dict[str, ChannelConfig]:
    """Every channel settings declare, by name; "email" always.

    A channel whose entry is wrong (an unknown kind, no URL, a bad secret) is logged, never raised:
    its deliveries fail one by one with the problem and go dead where the chair sees them, while
    every other channel keeps delivering.
    """
    channels: dict[str, ChannelConfig] = {EMAIL: ChannelConfig(EmailChannel(), selectable=True)}
    for name, entry in (settings.VALUEGATE_NOTIFICATION_CHANNELS or {}).items():
        try:
            channels[name] = _channel_config(name, entry)
        except Exception as error:  # a wrong entry must not stop the other channels
            logger.error("Notification channel %r is misconfigured: %s", name, error)
            events = entry.get("events", ()) if isinstance(entry, Mapping) else ()
            channels[name] = ChannelConfig(
                channel=MisconfiguredChannel(name=name, problem=f"{type(error).__name__}: {error}"),
                events=frozenset(e for e in events if isinstance(e, str)),
            )
    return channels


def _channel_config(name: str, entry: Mapping[str, Any]) -> ChannelConfig:
    kind = entry.get("kind", "")
    if kind not in KINDS or name == EMAIL:
        raise ValueError(f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    if not entry.get("url"):
        raise ValueError("no url")
    accepted = {f.name for f in dataclasses.fields(KINDS[kind])} - {"name", "kind"}
    options = {k: v for k, v in entry.items() if k in accepted}
    if kind == "webhook":
        Webhook(options.get("secret", ""))  # a secret that is not whsec_ and base64 fails here
    return ChannelConfig(
        channel=KINDS[kind](name=name, **options),
        events=frozenset(entry.get("events", ())),
        selectable=bool(entry.get("selectable", False)) and kind != "webhook",
    )
