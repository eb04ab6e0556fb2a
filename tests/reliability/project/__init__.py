"""A Django project for the reliability tests' servers, in subprocesses and in this process."""
