"""A module that fails while being imported, for the command line's error handling."""

raise RuntimeError("broken on purpose")
