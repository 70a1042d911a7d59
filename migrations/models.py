"""Imports every model module so Alembic's autogenerate sees the whole schema."""

from service.apikeys import models as apikeys_models  # noqa: F401
from service.audit import models as audit_models  # noqa: F401
from service.connections import models as connections_models  # noqa: F401
from service.db import Base
from service.erasure import models as erasure_models  # noqa: F401
from service.findings import models as findings_models  # noqa: F401
from service.idempotency import models as idempotency_models  # noqa: F401
from service.inbox import models as inbox_models  # noqa: F401
from service.moderation import models as moderation_models  # noqa: F401
from service.policies import models as policies_models  # noqa: F401
from service.responses import models as responses_models  # noqa: F401
from service.retention import models as retention_models  # noqa: F401
from service.scanning import models as scanning_models  # noqa: F401
from service.servicehours import models as servicehours_models  # noqa: F401
from service.storms import models as storms_models  # noqa: F401
from service.tenancy import models as tenancy_models  # noqa: F401
from service.webhooks import models as webhooks_models  # noqa: F401

metadata = Base.metadata
