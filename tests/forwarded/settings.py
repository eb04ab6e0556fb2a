"""The test settings with a proxy at 127.0.0.2 trusted, forwarded host included: for
``runserver``, which reads them through ``get_aio_application()``."""

from tests.settings import *  # noqa: F403
from tests.settings import ALLOWED_HOSTS

ROOT_URLCONF = "tests.forwarded.urls"
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "example.com"]
AIODJANGO_FORWARDED_ALLOW_IPS = ["127.0.0.2"]
AIODJANGO_FORWARDED_HOST = True
