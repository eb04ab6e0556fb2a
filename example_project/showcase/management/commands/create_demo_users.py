"""Create the demo accounts the README lists (idempotent: existing ones are left alone)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_PASSWORD = "aiodjango-demo"
DEMO_USERS = [("alice", True), ("bob", False)]


class Command(BaseCommand):
    help = (
        "Creates the demo users alice (an admin) and bob, both with the password 'aiodjango-demo'."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        for username, is_admin in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                continue
            User.objects.create_user(
                username,
                password=DEMO_PASSWORD,
                is_staff=is_admin,
                is_superuser=is_admin,
            )
            self.stdout.write(f"Created demo user {username!r} (password {DEMO_PASSWORD!r}).")
