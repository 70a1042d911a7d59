"""Exceptions reach the logs as frames and types, never with their messages (which carry values:
a database error names the parameter it could not encode)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.db import Database
from service.logging import _exception_without_values, _WithheldMessages, render_exception
from tests.conftest import MakeTenant

PHONE = "+45 70 10 20 30"


async def _database_error(db: Database, make_tenant: MakeTenant) -> DBAPIError:
    t = await make_tenant()
    with pytest.raises(DBAPIError) as failed:
        async with db.unit_of_work(t.tenant_id) as uow:
            await uow.session.execute(text("SELECT CAST(:value AS integer)"), {"value": PHONE})
    # The driver's own message names the value: this is what must not be logged.
    assert PHONE in str(failed.value)
    return failed.value


async def test_a_database_error_is_logged_without_its_values(
    db: Database, make_tenant: MakeTenant
) -> None:
    error = await _database_error(db, make_tenant)
    rendered = render_exception(error)
    assert PHONE not in rendered
    assert "sqlalchemy.exc.DBAPIError: [message withheld]" in rendered
    assert "test_exceptions_in_logs.py" in rendered  # the frames are kept
    # The engine hides the bound parameters from its own text as well.
    assert "hidden due to hide_parameters" in str(error)

    event = _exception_without_values(None, "error", {"event": "x", "exc_info": error})
    assert "exc_info" not in event and PHONE not in event["exception"]

    record = logging.LogRecord("arq", logging.ERROR, __file__, 1, "job failed", None, None)
    record.exc_info = (type(error), error, error.__traceback__)
    assert PHONE not in _WithheldMessages("%(message)s").format(record)


def test_chained_exceptions_keep_their_types_not_their_messages() -> None:
    try:
        try:
            raise KeyError(PHONE)
        except KeyError as inner:
            raise RuntimeError(f"lookup of {PHONE} failed") from inner
    except RuntimeError as outer:
        rendered = render_exception(outer)
    assert PHONE not in rendered
    assert rendered.index("builtins.KeyError") < rendered.index("builtins.RuntimeError")
