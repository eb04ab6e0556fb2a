"""Tests of identity and protection for lifted views: sessions, users, decorators, origins, DB."""
