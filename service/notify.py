"""Moved: webhook sending is ``service.workers.webhook_delivery``, the server key ``service.secret_key``.

Only ``service/web/sessions.py`` still imports from here, and service/web is being changed on another
branch: delete this module once it imports ``server_secret_key`` from ``service.secret_key``.
"""

from service.secret_key import server_secret_key as server_secret_key
