"""Postgres access: the declarative base, engines and units of work.

Tenancy is enforced here a second time, below the code: every tenant table has row-level security
keyed on the transaction-local setting ``app.tenant_id``, and the application connects as (or
``SET ROLE``s to) a role that RLS applies to. A unit of work opened for tenant A sets that value at
the start of every transaction, so a query that forgets its ``tenant_id`` filter still sees only A.
System work (the webhook router, the reconcile crons, the CLI) opens a *system* unit of work: its
transactions ``SET LOCAL ROLE`` to the system role (``WALLGUARD_DB_SYSTEM_ROLE``, no BYPASSRLS) and
set ``app.system``. The policies let rows through on ``app.system`` only when the current role is
that system role, so a tenant session that sets ``app.system`` itself still sees only its tenant.

Who opens and commits (the rule every module follows; docs/architecture.md says why):
- Services (``XService(uow)``) and repositories take a ``UnitOfWork`` and never commit.
- The edge opens it and commits once: a request's ``uow`` dependency (service/api/deps.py) or a
  pipeline step (service/pipeline/), which is the body of a job.
- A platform (Graph) call that changes something never runs inside the unit of work that asks for
  it: the rows that say what to do are committed first, then the platform is called, then the
  result is recorded. A transaction open across a platform call holds only the row locks of the
  item it works on (the action performer's actions; an inbox event whose text is fetched).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

import structlog
from sqlalchemy import DateTime, MetaData, event, func, text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, SessionTransaction, mapped_column

from service.auth.types import TenantId
from service.errors import Conflict, ServiceUnavailable
from service.ids import new_id
from service.queue import PendingJobs, Queue
from service.settings import Settings

log = structlog.get_logger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: DateTime(timezone=True),
        uuid.UUID: UUID(as_uuid=True),
    }


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        server_default=func.now(), default=utcnow, onupdate=utcnow
    )


class TenantOwned(Timestamped):
    """Primary key (tenant_id, id): every unique key includes the distribution column, so the
    table can be sharded by tenant (Citus) without changing a constraint."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


_TENANT_KEY = "wallguard_tenant_id"
_SYSTEM_KEY = "wallguard_system"
_SYSTEM_ROLE_KEY = "wallguard_system_role"


@event.listens_for(Session, "after_begin")
def _set_tenant_context(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    # Runs at the start of every transaction of the session, so a commit in the middle of a unit
    # of work cannot silently drop the tenant context.
    tenant_id = session.info.get(_TENANT_KEY)
    if tenant_id is not None:
        connection.execute(
            text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)}
        )
    elif session.info.get(_SYSTEM_KEY):
        # Transaction-local, like app.system: the pooled connection is back to the app role as
        # soon as this transaction ends. The role name is a validated identifier (Settings).
        connection.execute(text(f'SET LOCAL ROLE "{session.info[_SYSTEM_ROLE_KEY]}"'))
        connection.execute(text("SELECT set_config('app.system', 'on', true)"))


class Staged(Protocol):
    """Writes a unit of work collects and makes in one go just before it commits."""

    async def flush(self, session: AsyncSession) -> None: ...

    def mark(self) -> int: ...

    def rollback_to(self, mark: int) -> None: ...


_S = TypeVar("_S", bound=Staged)


class UnitOfWork:
    """One session, one commit, and the jobs to send once that commit succeeded."""

    def __init__(
        self, session: AsyncSession, tenant_id: TenantId | None, public_url: str = ""
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        # The API's public base URL: events written in this unit link to their resources.
        self.public_url = public_url
        self.jobs = PendingJobs()
        self._staged: dict[str, Staged] = {}

    @property
    def tenant(self) -> TenantId:
        """The tenant this unit of work was opened for (a system unit of work has none)."""
        if self.tenant_id is None:
            raise RuntimeError("a system unit of work acts for no single tenant")
        return self.tenant_id

    def staged(self, key: str, factory: Callable[[], _S]) -> _S:
        """This unit of work's buffer ``key``, created on first use and flushed right before the
        commit. The audit trail appends this way: its per-tenant lock is then held only for the
        commit, not for the whole transaction, and a batch of events costs one insert."""
        buffer = self._staged.get(key)
        if buffer is None:
            buffer = self._staged[key] = factory()
        return buffer  # type: ignore[return-value]

    async def flush_staged(self) -> None:
        for buffer in self._staged.values():
            await buffer.flush(self.session)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction: on an exception, the rows *and* the staged writes and jobs
        recorded inside it are undone, and the rest of the unit of work stays usable."""
        marks = {key: buffer.mark() for key, buffer in self._staged.items()}
        jobs = len(self.jobs)
        try:
            async with self.session.begin_nested():
                yield
        except BaseException:
            for key, buffer in list(self._staged.items()):
                if key in marks:
                    buffer.rollback_to(marks[key])
                else:
                    del self._staged[key]
            self.jobs.truncate(jobs)
            raise


class Database:
    def __init__(self, settings: Settings, queue: Queue | None = None) -> None:
        self.settings = settings
        self.queue = queue
        self.engine: AsyncEngine = create_async_engine(
            settings.database_url,
            # Connections stay open: an overflow connection is closed as soon as it is back, and
            # a burst of webhooks then pays a connect, a role switch and type introspection per
            # request, on both sides.
            pool_size=settings.db_pool_size,
            max_overflow=0,
            # No ping per checkout: on asyncpg it is three round trips (BEGIN, ";", ROLLBACK),
            # a quarter of all statements of the real-time path. A connection Postgres dropped
            # fails its next statement instead; SQLAlchemy then discards every pooled
            # connection opened before, the job is retried and the request answered 503
            # (service/api/problems.py).
            # A statement's parameters can be personal data (an allowlisted phone number, a
            # fingerprint): a database error must not put them in its message, which is logged.
            hide_parameters=True,
            connect_args={
                "server_settings": {
                    "application_name": "wallguard",
                    "statement_timeout": "30000",
                    "idle_in_transaction_session_timeout": "60000",
                    # asyncpg prepares every statement and keeps it per connection; Postgres
                    # then settles on a generic plan after five runs. One chosen while a table
                    # was nearly empty (a new tenant, a first backfill) is a sequential scan
                    # kept for the connection's life, and gets slower with every row: a
                    # backfill ran at half speed by its end. Planning each run costs ~0.1 ms.
                    "plan_cache_mode": "force_custom_plan",
                }
            },
        )
        role = settings.db_app_role

        @event.listens_for(self.engine.sync_engine, "connect")
        def _set_role(dbapi_connection: Any, _record: Any) -> None:
            # The app never works as the table owner or a superuser: both would bypass RLS.
            cursor = dbapi_connection.cursor()
            cursor.execute(f'SET ROLE "{role}"')
            cursor.close()

        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # Requests that may use the pool at once (its size and overflow): see ``admitted``.
        self._admission = asyncio.Semaphore(settings.db_pool_size)

    @asynccontextmanager
    async def admitted(self, wait: float, retry_after: int = 2) -> AsyncIterator[None]:
        """Load shedding: run the block only if a pooled connection is free within ``wait``
        seconds, else raise ``ServiceUnavailable`` (503 with ``Retry-After``) at once. A caller
        that must answer fast (Meta's webhook gives up after about 20 s and retries later) is
        better off refused in a second than queued behind an exhausted pool for thirty."""
        # Polled rather than ``wait_for(acquire())``: a timeout racing a release must never
        # lose a permit (a slow leak would end in refusing everything).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while self._admission.locked():
            if loop.time() >= deadline:
                raise ServiceUnavailable(
                    "Too busy right now; retry shortly.",
                    headers={"Retry-After": str(retry_after)},
                )
            await asyncio.sleep(0.01)
        await self._admission.acquire()  # free: returns at once, no await before it
        try:
            yield
        finally:
            self._admission.release()

    async def warm_up(self, connections: int = 4) -> None:
        """Open a few pooled connections now (connect, SET ROLE, type introspection), so the
        first requests after a start do not each wait for a connection of their own. asyncpg
        looks up each enum type the first time a connection meets it (a catalogue query per type
        and connection): one statement naming them all does that here, instead of in the first
        comments' transactions (measured: the slowest hides of a fresh worker were its first)."""
        quote = self.engine.dialect.identifier_preparer.quote
        enums = sorted(
            {
                column.type.name
                for table in Base.metadata.tables.values()
                for column in table.columns
                if isinstance(column.type, SAEnum) and column.type.name
            }
        )
        probe = text(
            "SELECT " + ", ".join(f"NULL::{quote(name)}" for name in enums) if enums else "SELECT 1"
        )

        async def connect() -> None:
            async with self.system_unit_of_work() as uow:
                await uow.session.execute(probe)

        count = max(1, min(connections, self.settings.db_pool_size))
        try:
            await asyncio.gather(*(connect() for _ in range(count)))
        except (OSError, SQLAlchemyError) as exc:
            # Best effort: a database that is not up yet is what /ready reports, and the pool
            # connects once it is.
            log.warning("database_warm_up_failed", error=type(exc).__name__)

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def unit_of_work(self, tenant_id: TenantId) -> AsyncIterator[UnitOfWork]:
        async with self._unit(tenant_id=tenant_id, system=False) as uow:
            yield uow

    @asynccontextmanager
    async def system_unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Crosses tenants on purpose (routing inbound events, reconcile, CLI). Use sparingly."""
        async with self._unit(tenant_id=None, system=True) as uow:
            yield uow

    @asynccontextmanager
    async def _unit(self, *, tenant_id: TenantId | None, system: bool) -> AsyncIterator[UnitOfWork]:
        session = self.sessionmaker(
            info={
                _TENANT_KEY: tenant_id,
                _SYSTEM_KEY: system,
                _SYSTEM_ROLE_KEY: self.settings.db_system_role,
            }
        )
        uow = UnitOfWork(session, tenant_id, self.settings.public_url)
        try:
            yield uow
            await uow.flush_staged()
            await session.commit()
        except BaseException:
            await session.rollback()
            uow.jobs.clear()
            raise
        finally:
            await session.close()
        # Only after the commit: a job must never point at a row that was rolled back.
        if self.queue is not None and uow.jobs:
            await self.queue.send(uow.jobs)


async def flush_or_conflict(session: AsyncSession, message: str) -> None:
    """Flush now so a unique-key violation becomes a 409 with a clear message, not a 500 at
    commit time. A savepoint keeps the rest of the unit of work usable."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(message) from None
