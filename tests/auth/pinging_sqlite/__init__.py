"""A SQLite backend that, like PostgreSQL's or MySQL's, can tell that its connection broke."""
