"""Celery, to scale execution out: the app and its task, the server's dispatch and sweep, the worker process.

Imported only when ``STEWARD_EXECUTOR=celery`` or by ``steward worker``; the embedded executor never loads
Celery. The modules import one way: ``worker`` and ``dispatch`` use ``app``, ``worker`` uses ``dispatch``.
"""
