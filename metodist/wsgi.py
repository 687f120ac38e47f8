import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metodist.settings")
application = get_wsgi_application()

# Import the URLconf, and with it every view module (the analysis imports NumPy, SciPy and Ibis), now,
# not under a user's first request: that took 3 s of a region dashboard's first answer in every server
# process. `metodist serve` loads this module before gunicorn forks, so the processes share the imports.
from django.urls import get_resolver  # noqa: E402

_patterns = get_resolver().url_patterns
