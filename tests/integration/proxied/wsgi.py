import os

from django.core.wsgi import get_wsgi_application

from aiodjango import get_aio_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.integration.proxied.settings")

application = get_wsgi_application()
app = get_aio_application(application)
