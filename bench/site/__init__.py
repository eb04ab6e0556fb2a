"""The Django project every benchmarked server runs: the views of all seven scenarios."""
