"""Notifications: an SNS message (e-mail subscribers read its text), and optionally a
Slack/Teams-style incoming webhook.

The message text carries the approval links; links and the webhook URL are never logged
(a signed link lets its holder decide an approval).
"""
from __future__ import annotations

import logging
import re
from typing import Any, Iterable, Mapping, Sequence

from cwsync.errors import ConfigurationError, TransientError

logger = logging.getLogger(__name__)

SUBJECT_MAX = 100  # SNS limit for e-mail subjects
WEBHOOK_TIMEOUT = (3.05, 10)


# A subject's closing "(order SO000123)" or ": order SO000123 for …" part names the order: kept whole.
_ORDER_TAIL = re.compile(r"\s*\((?:order|orders?)\s[^()]*\)$")
_ORDER_WORD = re.compile(r"\border\s+\S+")


def clean_subject(subject: str) -> str:
    """SNS subjects: one line, printable, at most 100 characters, never cut inside an order number.

    A long subject loses words from the customer's name (the middle), not its order number:
    "Choose the ConnectWise company for <long name…> (order SO000123)".
    """
    text = " ".join(str(subject).split())
    text = "".join(ch for ch in text if ch.isprintable())
    if len(text) <= SUBJECT_MAX:
        return text or "cwsync"
    tail = _ORDER_TAIL.search(text)
    if tail and len(tail.group(0)) < SUBJECT_MAX // 2:
        head = text[:tail.start()]
        return _shorten(head, SUBJECT_MAX - len(tail.group(0))) + tail.group(0)
    word = _ORDER_WORD.search(text)
    if word and word.end() < SUBJECT_MAX - 1:
        return _shorten(text, SUBJECT_MAX, keep=word.end())
    return _shorten(text, SUBJECT_MAX)


def _shorten(text: str, limit: int, *, keep: int = 0) -> str:
    """At most `limit` characters ending in "…", cut at a space after position `keep` when there is one."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > max(keep, limit // 2):
        cut = cut[:space]
    return cut.rstrip(" ,:;-") + "…"


def _links(links: Mapping[str, str] | Iterable[Sequence[str]] | None) -> list[tuple[str, str]]:
    if not links:
        return []
    if isinstance(links, Mapping):
        return [(str(label), str(url)) for label, url in links.items()]
    return [(str(label), str(url)) for label, url in links]


def compose(message: str, links: Mapping[str, str] | Iterable[Sequence[str]] | None = None) -> str:
    """The plain-text body: the message, then one labelled link per line."""
    parts = [message.rstrip()]
    pairs = _links(links)
    if pairs:
        parts.append("")
        parts.extend(f"{label}:\n{url}\n" for label, url in pairs)
    return "\n".join(parts).rstrip() + "\n"


class Notifier:
    """`publish(subject, message, links)` to the SNS topic and, when set, the webhook."""

    def __init__(self, topic_arn: str | None, *, webhook_url: str | None = None, client=None,
                 session=None, timeout=WEBHOOK_TIMEOUT):
        if not topic_arn and not webhook_url:
            raise ConfigurationError("Notifications need TOPIC_ARN (or WEBHOOK_URL); neither is set")
        self.topic_arn = topic_arn
        self.webhook_url = webhook_url
        self._client = client
        self._session = session
        self.timeout = timeout

    @property
    def client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client("sns", config=Config(connect_timeout=3, read_timeout=10,
                                                             retries={"mode": "standard", "max_attempts": 5}))
        return self._client

    def publish(self, subject: str, message: str,
                links: Mapping[str, str] | Iterable[Sequence[str]] | None = None) -> dict[str, Any]:
        """Send the notification; returns {"messageId", "webhook"}. SNS errors raise TransientError."""
        subject = clean_subject(subject)
        body = compose(message, links)
        result: dict[str, Any] = {"messageId": None, "webhook": None}
        if self.topic_arn:
            from botocore.exceptions import BotoCoreError, ClientError

            try:
                answer = self.client.publish(TopicArn=self.topic_arn, Subject=subject, Message=body)
            except (ClientError, BotoCoreError) as error:
                code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
                raise TransientError(f"The notification could not be sent to SNS ({code}); it will be retried") from None
            result["messageId"] = answer.get("MessageId")
            logger.info("Notification published", extra={"subject": subject, "messageId": result["messageId"]})
        if self.webhook_url:
            result["webhook"] = self._post_webhook(subject, body)
        return result

    def _post_webhook(self, subject: str, body: str) -> int | None:
        """POST {"text": ...} (Slack and Teams incoming webhooks accept it); failures are logged, not raised."""
        import requests

        session = self._session or requests
        try:
            response = session.post(self.webhook_url, json={"text": f"*{subject}*\n{body}"}, timeout=self.timeout)
        except requests.RequestException as error:
            logger.warning("Webhook notification failed", extra={"error": type(error).__name__})
            return None
        if response.status_code >= 400:
            logger.warning("Webhook notification refused", extra={"status": response.status_code})
        return response.status_code
