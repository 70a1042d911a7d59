"""Imports every model module so Alembic's autogenerate sees the whole schema."""

from service.apikeys import models as apikeys_models  # noqa: F401
from service.db import Base
from service.tenancy import models as tenancy_models  # noqa: F401

metadata = Base.metadata
