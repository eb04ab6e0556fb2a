"""``manage.py aiodjango_views``: every URL pattern, who serves it, and why.

The decision is the one the server makes at startup (:func:`aiodjango.routing.decide`), shown
in Django's order, so that nobody has to guess which request object a view gets.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aiodjango.routing import ViewKind, find_view_patterns


class Command(BaseCommand):
    help = (
        "Lists every URL pattern in Django's order with who serves it (aiohttp, Django async "
        "on the event loop, Django in a worker thread) and why."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--urlconf", help="A URLconf module instead of ROOT_URLCONF.")
        parser.add_argument(
            "--kind",
            choices=[kind.name.lower() for kind in ViewKind],
            help="Only the patterns of this kind.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        patterns = find_view_patterns(options["urlconf"])
        wanted = options["kind"]
        rows = [
            (
                pattern.description,
                pattern.decision.kind.value,
                pattern.decision.reason
                + (
                    " (manage.py check warns: aiodjango.W003)" if pattern.decision.undecided else ""
                ),
            )
            for pattern in patterns
            if wanted is None or pattern.decision.kind.name.lower() == wanted
        ]
        header = ("PATTERN", "SERVED BY", "WHY")
        widths = [max(len(row[column]) for row in [header, *rows]) for column in range(2)]
        for number, row in enumerate([header, *rows]):
            line = "  ".join([row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2]]).rstrip()
            self.stdout.write(self.style.MIGRATE_HEADING(line) if number == 0 else line)
