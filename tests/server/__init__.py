"""Tests of configure_server(), serve() and the command line."""
