"""SQLite whose ``is_usable()`` really asks the connection, as network backends do.

Django's own SQLite backend always answers True (a local file does not drop connections), so
broken-connection handling can only be shown with a backend that checks.
"""

from __future__ import annotations

import sqlite3

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        try:
            self.connection.execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True
