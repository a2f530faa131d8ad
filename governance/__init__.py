"""Steward's domain, one package per noun; ``governance/README.md`` draws the packages and their arrows.

Packages react to lower ones through in-process events (``governance.kernel.events``). The modules that
subscribe are imported here, so that importing any part of the domain wires every reaction: a publish
always cuts its releases, a cut always queues its runs, an audit event always reaches the outbox.
"""

from governance.compliance import carry_over as _carry_over  # noqa: F401  (subscribes to AuditRecorded)
from governance.compliance import declaring as _declaring  # noqa: F401  (subscribes to ProductDeclared)
from governance.compliance import lint as _lint  # noqa: F401  (subscribes to ComponentPublished)
from governance.feedback import models as _feedback_models  # noqa: F401  (tables only)
from governance.incidents import models as _incidents_models  # noqa: F401  (tables only)
from governance.notifications import outbox as _outbox  # noqa: F401  (subscribes to AuditRecorded)
from governance.recertification import settling as _settling  # noqa: F401  (subscribes to AuditRecorded)
from governance.releases import cutting as _cutting  # noqa: F401  (subscribes to ComponentPublished, ProductChanged)
from governance.review import decisions as _decisions  # noqa: F401  (subscribes to ProductOwnerChanged)
from governance.runs import execution as _execution  # noqa: F401  (subscribes to ReleasesClosed)
from governance.runs import queueing as _queueing  # noqa: F401  (subscribes to ReleasesCut)
from governance.serving import suspension as _suspension  # noqa: F401  (subscribes to ReleaseWentLive)
from governance.technical_file import freezing as _freezing  # noqa: F401  (subscribes to ReleaseWentLive)
