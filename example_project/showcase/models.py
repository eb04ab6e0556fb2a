"""The chat room's one model."""

from django.conf import settings
from django.db import models


class Message(models.Model):
    """A line said in the chat room; kept so the room page can show the recent history."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    text = models.CharField(max_length=500)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.author}: {self.text}"

    def as_event(self) -> dict[str, str]:
        """What the websocket sends to every browser in the room."""
        return {
            "type": "message",
            "user": self.author.get_username(),
            "text": self.text,
            "sent_at": self.sent_at.isoformat(timespec="seconds"),
        }
