"""Capture what the functions publish to SNS: `<data-dir>/outbox.jsonl` and the console.

moto keeps SNS messages to itself (an e-mail subscription goes nowhere), so the runtime
wraps `moto.sns.models.Topic.publish` — one small seam — and records every message with
the links it carries.
"""
from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

URL = re.compile(r"https?://[^\s\"'<>)\]]+")


def links_in(message: str, attributes: dict | None = None) -> list[str]:
    """Every URL in the message text (JSON or plain) and its attributes, in order, once."""
    found: list[str] = []
    texts = [message or ""]
    for value in (attributes or {}).values():
        texts.append(json.dumps(value, default=str))
    for text in texts:
        for url in URL.findall(text.replace("\\/", "/")):
            url = url.rstrip(".,;")
            if url not in found:
                found.append(url)
    return found


class Outbox:
    """Appends one JSON object per published message; calls `listener(entry)` for each."""

    def __init__(self, path: Path, listener: Callable[[dict], None] | None = None):
        self.path = Path(path)
        self.listener = listener
        self.lock = threading.Lock()
        self._original = None

    def record(self, topic_arn: str, message: str, subject: str | None = None,
               attributes: dict | None = None) -> dict:
        try:
            body: Any = json.loads(message)
        except (TypeError, ValueError):
            body = None
        entry = {
            "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "topicArn": topic_arn,
            "subject": subject,
            "message": message,
            "links": links_in(message, attributes),
        }
        if isinstance(body, dict):
            entry["data"] = body
        if attributes:
            entry["attributes"] = {key: value.get("Value", value) if isinstance(value, dict) else value
                                   for key, value in attributes.items()}
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, default=str) + "\n")
        if self.listener:
            try:
                self.listener(entry)
            except Exception:  # noqa: BLE001 - printing must never break a publish
                pass
        return entry

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        with self.lock:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    # -- the seam ---------------------------------------------------------------------------
    def install(self) -> None:
        from moto.sns.models import Topic

        if self._original is not None:
            return
        self._original = original = Topic.publish
        outbox = self

        def publish(topic, message, subject=None, message_attributes=None, *args, **kwargs):
            message_id = original(topic, message, subject, message_attributes, *args, **kwargs)
            outbox.record(topic.arn, message, subject, message_attributes)
            return message_id

        Topic.publish = publish

    def uninstall(self) -> None:
        from moto.sns.models import Topic

        if self._original is not None:
            Topic.publish = self._original
            self._original = None
