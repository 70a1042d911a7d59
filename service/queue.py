"""The job queue and its catalogue: the one module that imports arq.

Redis only carries messages; Postgres is the record. Code that wants work done makes a ``Job``
with the constructor named after it below (``queue.execute_action(tenant_id, action_id)``) and adds
it to the unit of work (``uow.jobs.add(job)``); the jobs are sent after the commit (and dropped on
rollback). If Redis is down at that moment the rows are still ``pending`` in Postgres and the
reconcile cron sends them again, so nothing is lost.

arq is in maintenance-only mode upstream (python-arq/arq#510), so everything arq-shaped sits here:
sending (``Queue``), the names and ids of every job (``JobName`` and the constructors), and what
the worker layer needs to register job functions (``job_function``, ``cron_job``,
``worker_class``) and to ask for a retry (``retry_later``). Swapping the queue means rewriting
this module only; ``lint-imports`` keeps arq out of every other module.

    job                  args                        job id (arq drops duplicates by it)
    process_inbox_event  tenant_id, event_id         inbox:<event>
    drain_inbox          tenant_id, connection_id    drain:<connection>:<window> (coalesced)
    execute_action       tenant_id, action_id        action:<action>
    poll_connection      tenant_id, connection_id    poll:<connection>
    run_scan             tenant_id, scan_id          run_scan:<scan>:<attempt>
    deliver_webhooks     tenant_id, endpoint_id      - (a second drain of one endpoint is cheap)
    purge_retention      tenant_id                   retention:<tenant>
    erase_subject        tenant_id, request_id       erasure:<request>[:<attempt>]
    delete_tenant        tenant_id                   delete-tenant:<tenant>
    check_database       -                           -
    crons: poll_recent, reconcile, reconcile_scans, reconcile_webhook_deliveries,
           schedule_retention, reconcile_erasures, reconcile_tenant_deletions,
           track_responses, watch_storms
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import msgspec
import structlog
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from arq.cron import CronJob, cron
from arq.jobs import Job as ArqJob
from arq.jobs import JobStatus, deserialize_job, serialize_job
from arq.typing import WorkerCoroutine
from arq.worker import Function, Retry, Worker, func, get_kwargs
from redis.exceptions import RedisError, ResponseError, WatchError

log = structlog.get_logger(__name__)

# Job arguments are ids and small scalars only: never personal data, never tokens.
JobArg = str | int | float | bool | None

# The longest a pipeline job runs (its arq timeout): scans run in slices far below it. A started
# job is "in progress" (claimed) for its own timeout plus CLAIM_MARGIN_SECONDS and no worker
# starts it again meanwhile (``ResilientWorker``; arq itself would use the longest timeout of all
# jobs, 610 s then, for every job): a killed worker's short jobs come back soon, and reconcile
# releases the claim of one whose row nobody holds even sooner (``Queue.resend``).
LONGEST_JOB_SECONDS = 60
CLAIM_MARGIN_SECONDS = 10


class JobName(enum.StrEnum):
    """Every job and cron the worker runs. The values are arq function names: stored in Redis,
    so renaming one strands the jobs already queued under the old name."""

    PROCESS_INBOX_EVENT = "process_inbox_event"
    DRAIN_INBOX = "drain_inbox"
    EXECUTE_ACTION = "execute_action"
    POLL_CONNECTION = "poll_connection"
    RUN_SCAN = "run_scan"
    DELIVER_WEBHOOKS = "deliver_webhooks"
    PURGE_RETENTION = "purge_retention"
    ERASE_SUBJECT = "erase_subject"
    DELETE_TENANT = "delete_tenant"
    CHECK_DATABASE = "check_database"
    # crons
    POLL_RECENT = "poll_recent"
    RECONCILE = "reconcile"
    RECONCILE_SCANS = "reconcile_scans"
    TRACK_RESPONSES = "track_responses"
    WATCH_STORMS = "watch_storms"
    RECONCILE_WEBHOOK_DELIVERIES = "reconcile_webhook_deliveries"
    SCHEDULE_RETENTION = "schedule_retention"
    RECONCILE_ERASURES = "reconcile_erasures"
    RECONCILE_TENANT_DELETIONS = "reconcile_tenant_deletions"


# KEYS: the job's key, result key and in-progress key, the queue. ARGV: job id, when to run
# (ms), the serialized job, its expiry (ms). A run that is waiting takes the new work along (0);
# one that started or finished may have looked already (2); otherwise it is sent now (1), the
# way arq's enqueue_job writes a job.
_COALESCE_SCRIPT = """
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
return 1
"""
_COALESCE_STARTED = 2

# A coalesced run starts this long after its window ends (clocks of API and worker hosts agree
# to within milliseconds; the send after a commit takes about one).
_COALESCE_MARGIN = 0.005


class Job(msgspec.Struct, frozen=True):
    function: JobName
    args: tuple[JobArg, ...] = ()
    # A stable id makes arq drop a duplicate while the first is queued or its result is kept.
    job_id: str | None = None
    defer_by: float | None = None
    # Sends of this job within one window of this many seconds make one run, at the window's
    # end: ``Queue.send`` adds the window's number to ``job_id``.
    coalesce: float | None = None


# --- the catalogue: one constructor per job ----------------------------------------------------


def inbox_job_id(event_id: uuid.UUID | str) -> str:
    # One job per event: arq drops a second enqueue while the first is queued or kept.
    return f"inbox:{event_id}"


# The window a connection's inbox events wait for company: under load a delivery arrives every few
# milliseconds, and one job per window handles them in one batch instead of one job each.
# Measured at 250 comments/s on two cores (bench/README.md): 50 ms left the workers and Postgres
# half again as busy as 100 ms; 200 ms saved little more and doubled the wait when idle.
INBOX_DRAIN_WINDOW = 0.1


def drain_inbox(tenant_id: uuid.UUID, connection_id: uuid.UUID) -> Job:
    return Job(
        JobName.DRAIN_INBOX,
        (str(tenant_id), str(connection_id)),
        f"drain:{connection_id}",
        coalesce=INBOX_DRAIN_WINDOW,
    )


def action_job_id(action_id: uuid.UUID | str) -> str:
    return f"action:{action_id}"


def run_scan_job_id(scan_id: uuid.UUID | str, attempt: str = "0") -> str:
    # One id per (scan, reason to run): arq drops a duplicate of the same one, and a second
    # run of the same scan is harmless anyway (the job holds a per-scan lock).
    return f"{JobName.RUN_SCAN.value}:{scan_id}:{attempt}"


def process_inbox_event(tenant_id: uuid.UUID, event_id: uuid.UUID) -> Job:
    return Job(JobName.PROCESS_INBOX_EVENT, (str(tenant_id), str(event_id)), inbox_job_id(event_id))


def execute_action(
    tenant_id: uuid.UUID, action_id: uuid.UUID, *, defer_by: float | None = None
) -> Job:
    return Job(
        JobName.EXECUTE_ACTION,
        (str(tenant_id), str(action_id)),
        action_job_id(action_id),
        defer_by,
    )


def poll_connection(tenant_id: uuid.UUID, connection_id: uuid.UUID, slot: int = 0) -> Job:
    # One id per connection and poll slot (the interval's number): a duplicate within a slot is
    # dropped, and a poll stranded by a killed worker does not block the next slot's.
    return Job(
        JobName.POLL_CONNECTION,
        (str(tenant_id), str(connection_id)),
        f"poll:{connection_id}:{slot}",
    )


def run_scan(tenant_id: uuid.UUID, scan_id: uuid.UUID, attempt: str = "0") -> Job:
    return Job(JobName.RUN_SCAN, (str(tenant_id), str(scan_id)), run_scan_job_id(scan_id, attempt))


def deliver_webhooks(
    tenant_id: uuid.UUID, endpoint_id: uuid.UUID, *, defer_by: float | None = None
) -> Job:
    """Wake one webhook endpoint's drain (service/webhooks/service.py ``deliver_due``)."""
    return Job(JobName.DELIVER_WEBHOOKS, (str(tenant_id), str(endpoint_id)), None, defer_by)


def purge_retention(tenant_id: uuid.UUID) -> Job:
    return Job(JobName.PURGE_RETENTION, (str(tenant_id),), f"retention:{tenant_id}")


def erase_subject(tenant_id: uuid.UUID, request_id: uuid.UUID, attempt: str = "") -> Job:
    job_id = f"erasure:{request_id}" + (f":{attempt}" if attempt else "")
    return Job(JobName.ERASE_SUBJECT, (str(tenant_id), str(request_id)), job_id)


def delete_tenant(tenant_id: uuid.UUID) -> Job:
    return Job(JobName.DELETE_TENANT, (str(tenant_id),), f"delete-tenant:{tenant_id}")


class PendingJobs:
    """The jobs a unit of work sends once it has committed."""

    def __init__(self) -> None:
        self._jobs: list[Job] = []

    def add(self, job: Job) -> None:
        self._jobs.append(job)

    def clear(self) -> None:
        self._jobs.clear()

    def truncate(self, length: int) -> None:
        del self._jobs[length:]

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs)

    def __len__(self) -> int:
        return len(self._jobs)


# --- sending -----------------------------------------------------------------------------------


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    settings.conn_retries = 1
    return settings


class Queue:
    def __init__(self, redis: ArqRedis, queue_name: str) -> None:
        self.redis = redis
        self.queue_name = queue_name
        # Loaded by its hash and again after a Redis restart (redis-py's Script does both).
        self._coalesce = redis.register_script(_COALESCE_SCRIPT)

    @classmethod
    async def connect(cls, url: str, queue_name: str) -> Queue:
        return cls(
            await create_pool(redis_settings(url), default_queue_name=queue_name), queue_name
        )

    async def close(self) -> None:
        await self.redis.aclose()

    async def send(self, jobs: PendingJobs | Sequence[Job]) -> int:
        """Send jobs; returns how many were accepted. Failures are logged, never raised: the
        caller's transaction has committed and the reconcile cron will resend from Postgres."""
        sent = 0
        for job in jobs:
            try:
                if job.coalesce:
                    await self._send_coalesced(job, job.coalesce)
                else:
                    defer = dt.timedelta(seconds=job.defer_by) if job.defer_by else None
                    await self.redis.enqueue_job(
                        job.function.value,
                        *job.args,
                        _job_id=job.job_id,
                        _queue_name=self.queue_name,
                        _defer_by=defer,
                    )
                sent += 1
            except Exception as exc:  # Redis down or restarting: Postgres keeps the work.
                log.warning(
                    "job_enqueue_failed",
                    function=job.function.value,
                    job_id=job.job_id,
                    error=type(exc).__name__,
                )
        return sent

    async def _send_coalesced(self, job: Job, window: float) -> None:
        """Send ``job`` to run at the end of the current window, unless that window's run is
        already waiting: the caller's work is committed, and a run that starts after the window
        ends sees it. A run of this window that already started (a slow send, a clock a little
        ahead) may have looked before the commit, so the next window's run is sent instead.
        One round trip: the check and the send are one script in Redis."""
        assert job.job_id is not None
        window_no = int(time.time() / window)
        for number in (window_no, window_no + 1, window_no + 2):
            job_id = f"{job.job_id}:{number}"
            run_at_ms = int(((number + 1) * window + _COALESCE_MARGIN) * 1000)
            now_ms = int(time.time() * 1000)
            payload = serialize_job(
                job.function.value, job.args, {}, None, now_ms, serializer=self.redis.job_serializer
            )
            answer = await self._coalesce(
                keys=[
                    job_key_prefix + job_id,
                    result_key_prefix + job_id,
                    in_progress_key_prefix + job_id,
                    self.queue_name,
                ],
                args=[
                    job_id,
                    run_at_ms,
                    payload,
                    max(run_at_ms - now_ms, 0) + self.redis.expires_extra_ms,
                ],
            )
            if int(answer) != _COALESCE_STARTED:
                return  # sent now, or waiting: either takes this work along

    async def resend(self, job: Job, *, claimed_longer_than: float | None = None) -> int:
        """Send ``job`` again unless arq already holds it queued, deferred or running (the
        reconcile cron's way to recover work lost with Redis or a killed worker). A finished
        job's kept result would make arq drop the new one as a duplicate: it is removed first.

        ``claimed_longer_than``: the caller knows nobody works on the job's row (Postgres
        holds no lock on it, which a live worker would): if arq says a worker started the job
        more than this many seconds ago, that worker is gone, and its claim (arq's in-progress
        key, which would otherwise stand for ``CLAIM_SECONDS``) is released, so the job, still
        in the queue, is started again by the next worker that polls. Returns 1 when the job
        was sent or released."""
        if job.job_id is None:
            return await self.send([job])
        try:
            status = await ArqJob(job.job_id, self.redis, _queue_name=self.queue_name).status()
            if status is JobStatus.in_progress and claimed_longer_than is not None:
                return await self._release_claim(job, claimed_longer_than)
            if status in {JobStatus.queued, JobStatus.deferred, JobStatus.in_progress}:
                return 0
            if status is JobStatus.complete:
                await self.redis.delete(result_key_prefix + job.job_id)
        except Exception as exc:  # Redis down: the next reconcile pass tries again.
            log.warning("job_resend_failed", job_id=job.job_id, error=type(exc).__name__)
            return 0
        return await self.send([job])

    async def _release_claim(self, job: Job, older_than: float) -> int:
        assert job.job_id is not None
        key = in_progress_key_prefix + job.job_id
        started = await self.redis.get(key)  # ResilientWorker writes when it claimed the job
        try:
            claimed_for = time.time() - int(started or b"") / 1000
        except ValueError:  # gone meanwhile, or claimed by a worker that does not say when
            return 0
        if claimed_for <= older_than:
            return 0
        if await self.redis.zscore(self.queue_name, job.job_id) is None:
            # Claimed but no longer queued (finished between the two reads): nothing to do.
            return 0
        await self.redis.delete(key)
        log.warning("job_claim_released", job_id=job.job_id, claimed_for=round(claimed_for, 1))
        return 1

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False


# --- what the worker layer registers -------------------------------------------------------------

# An ``async def job(ctx: dict[str, Any], *ids: str) -> ...``.
JobFunction = WorkerCoroutine
WorkerFunction = Function
WorkerCron = CronJob


def retry_later(defer: float | None) -> Exception:
    """The exception a job raises to run again after ``defer`` seconds (arq's ``Retry``: the
    only exception arq re-runs a job for)."""
    return Retry(defer=defer)


def job_function(
    name: JobName,
    coroutine: JobFunction,
    *,
    max_tries: int | None = None,
    timeout: int | None = None,
    keep_result: int | None = None,
) -> WorkerFunction:
    return func(
        coroutine, name=name.value, max_tries=max_tries, timeout=timeout, keep_result=keep_result
    )


def cron_job(
    name: JobName,
    coroutine: JobFunction,
    *,
    second: int | set[int],
    timeout: int,
    minute: int | set[int] | None = None,
) -> WorkerCron:
    return cron(
        one_at_a_time(name, coroutine, timeout),
        name=name.value,
        minute=minute,
        second=second,
        timeout=timeout,
    )


# KEYS: the running mark. ARGV: the run's token. Deletes the mark only if this run set it.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def one_at_a_time(name: JobName, coroutine: JobFunction, timeout: int) -> JobFunction:
    """The cron ``coroutine`` such that a tick finding the previous tick still running returns
    at once. arq sends every tick as its own job, so a tick that outlasts its interval (a
    tracker behind after a storm) would otherwise run beside the next one on another worker:
    correct (the crons lock their rows with SKIP LOCKED) but twice the work on the same
    backlog, when the database is already the slow part. The mark is a Redis key that expires
    with the tick's timeout, so a killed worker's mark holds back at most that long; Redis
    losing it only allows what happened before, two runs at once."""

    async def run(ctx: dict[str, Any]) -> Any:
        redis: ArqRedis = ctx["redis"]
        key = f"{ctx['queue_name']}:cron-running:{name.value}"
        token = str(ctx.get("job_id") or uuid.uuid4())
        if not await redis.set(key, token, nx=True, px=(timeout + CLAIM_MARGIN_SECONDS) * 1000):
            log.info("cron_skipped", cron=name.value, reason="previous_tick_running")
            return None
        try:
            return await coroutine(ctx)
        finally:
            with contextlib.suppress(RedisError):  # if Redis is gone, the mark expires
                await redis.register_script(_RELEASE_SCRIPT)(keys=[key], args=[token])

    run.__qualname__ = run.__name__ = getattr(coroutine, "__name__", name.value)
    return run


def worker_class(
    *,
    functions: Sequence[WorkerFunction],
    cron_jobs: Sequence[WorkerCron],
    redis_url: str,
    queue_name: str,
    on_startup: Callable[[dict[str, Any]], Awaitable[None]],
    on_shutdown: Callable[[dict[str, Any]], Awaitable[None]],
    poll_delay: float,
    max_jobs: int,
) -> type:
    """An arq ``WorkerSettings`` class (what ``arq``'s ``run_worker`` and ``Worker`` take)."""
    return type(
        "WorkerSettings",
        (),
        {
            "functions": list(functions),
            "cron_jobs": list(cron_jobs),
            "redis_settings": redis_settings(redis_url),
            "queue_name": queue_name,
            "on_startup": staticmethod(on_startup),
            "on_shutdown": staticmethod(on_shutdown),
            # arq polls Redis; its 0.5 s default would put a floor under time-to-hide.
            "poll_delay": poll_delay,
            "max_jobs": max_jobs,
            "job_timeout": LONGEST_JOB_SECONDS,
            "max_tries": 5,
            "keep_result": 3600,
            "health_check_interval": 30,
        },
    )


class ResilientWorker(Worker):
    """arq's worker with two changes.

    - It outlives Redis: arq's exits when Redis goes away; this one logs a failed poll and tries
      again with back-off (0.1 s doubling to 5 s) until Redis answers again, whatever it lost
      meanwhile (the reconcile cron resends from Postgres what is still pending).
    - Per-job claims: arq marks every started job in progress for the longest timeout of all
      jobs (+10 s), so a killed worker's hide waited as long as a tenant deletion could run.
      Here a job is claimed for its own function's timeout plus ``CLAIM_MARGIN_SECONDS``, and
      the claim says when it was taken (``Queue.resend`` reads it)."""

    # Any of redis-py's errors (a lost connection also surfaces as WatchError mid-transaction)
    # and the socket's own.
    _REDIS_ERRORS = (RedisError, OSError)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Crons keep their running marks under the queue's name (``one_at_a_time``).
        self.ctx.setdefault("queue_name", self.queue_name)
        self._redis_down_since: float | None = None
        self._redis_backoff = 0.1

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except self._REDIS_ERRORS as exc:
            now = self.loop.time()
            if self._redis_down_since is None:
                self._redis_down_since = now
                log.warning("worker_redis_unavailable", error=type(exc).__name__)
            await asyncio.sleep(self._redis_backoff)
            self._redis_backoff = min(5.0, self._redis_backoff * 2)
            return
        if self._redis_down_since is not None:
            log.warning(
                "worker_redis_back", after_seconds=round(self.loop.time() - self._redis_down_since)
            )
            self._redis_down_since = None
            self._redis_backoff = 0.1

    def _claim_ms(self, raw: bytes | None) -> int:
        timeout = self.job_timeout_s
        if raw is not None:
            try:
                function = self.functions.get(
                    deserialize_job(raw, deserializer=self.job_deserializer).function
                )
            except Exception:
                function = None
            if function is not None and function.timeout_s is not None:
                timeout = function.timeout_s
        return int((timeout + CLAIM_MARGIN_SECONDS) * 1000)

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """arq's ``start_jobs``, claiming each job for its own timeout (see the class), and
        giving back the concurrency slot when talking to Redis fails (arq's keeps it).

        A started job stays in the queue until it ends, so every poll (20 a second) lists the
        jobs running anywhere again; arq examines each with three round trips. Here the jobs
        this worker runs are passed over without asking Redis, and those another worker holds
        are found with one pipelined read for the lot."""
        candidates = [j.decode() for j in job_ids]
        candidates = [j for j in candidates if j not in self.tasks]
        if not candidates:
            return
        async with self.pool.pipeline(transaction=False) as probe:
            for job_id in candidates:
                probe.exists(in_progress_key_prefix + job_id)
            held = await probe.execute()
        for job_id, is_held in zip(candidates, held, strict=True):
            if is_held:
                continue
            await self.sem.acquire()
            if self.job_counter >= self.max_jobs:
                self.sem.release()
                return
            self.job_counter += 1
            in_progress_key = in_progress_key_prefix + job_id
            try:
                async with self.pool.pipeline(transaction=True) as pipe:
                    await pipe.watch(in_progress_key)
                    ongoing = await pipe.exists(in_progress_key)
                    score = await pipe.zscore(self.queue_name, job_id)
                    if ongoing or not score or score > time.time() * 1000:
                        # Running elsewhere, finished, or re-deferred by another worker.
                        self._release_sem_dec_counter_on_complete()
                        continue
                    claim_ms = self._claim_ms(await pipe.get(job_key_prefix + job_id))
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.psetex(in_progress_key, claim_ms, str(int(time.time() * 1000)).encode())
                    try:
                        await pipe.execute()
                    except (ResponseError, WatchError):
                        self._release_sem_dec_counter_on_complete()  # started elsewhere
                        continue
            except BaseException:
                self._release_sem_dec_counter_on_complete()
                raise
            task = self.loop.create_task(self.run_job(job_id, int(score)))
            task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
            self.tasks[job_id] = task


def run_worker(settings: type | dict[str, Any]) -> None:
    """Run a worker with these settings (a settings class or its options) until it is stopped
    (``wallguard worker``)."""
    ResilientWorker(**get_kwargs(settings)).run()
