"""aiodjango's benchmark harness: the same Django project under aiodjango and its peers.

``python -m bench`` starts each server as a subprocess on 127.0.0.1, drives it with ``wrk``
(and small asyncio clients of its own for large bodies and websockets), prints one table and
writes it, with a chart, to ``bench/results/``. ``--quick`` runs every scenario briefly, to
check that the harness works; it measures nothing worth quoting.
"""
