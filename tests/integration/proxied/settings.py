"""Settings of the project served behind nginx: the suite's settings with its own URLconf.

No ``SECURE_PROXY_SSL_HEADER``: the scheme and client address the views see come from
aiodjango's trusted forwarded headers alone.
"""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.integration.proxied.urls"
WSGI_APPLICATION = "tests.integration.proxied.wsgi.application"
