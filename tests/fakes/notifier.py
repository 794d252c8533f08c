"""NotifierPort in memory: every message published, with its links."""
from __future__ import annotations


class FakeNotifier:
    def __init__(self):
        self.sent: list[dict] = []

    def publish(self, subject, message, links=None):
        self.sent.append({"subject": subject, "message": message, "links": list(links or [])})
        return {"messageId": str(len(self.sent))}
