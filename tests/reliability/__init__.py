"""Reliability: load, hostile input, faults and graceful shutdown."""
