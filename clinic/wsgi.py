from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from clinic.heap import freeze_startup_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

application = get_wsgi_application()
freeze_startup_heap()
