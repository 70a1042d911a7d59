"""`make run` a second, third ... time: the same working demo each time.

The database is kept between runs, and so is the platform sandbox (its state file sits next to
the database): comments hidden once stay hidden and are not hidden again, new comments get ids
never seen before, and a new leaky comment is hidden in real time on every start. The same ports
each time, straight after the stop, as a user pressing Ctrl-C and running `make run` again does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from service.devstack.embedded import free_port
from tests.devstack.processes import remove_private_dirs
from tests.devstack.stack import WITHOUT_SANDBOX, check_the_demo_works, dev_stack_running

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(WITHOUT_SANDBOX, reason="needs the sandbox")]


def test_three_starts_in_a_row_give_the_same_working_demo(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    api_port, sandbox_port = free_port(), free_port()
    leaky: list[str] = []
    tenant_keys: list[str] = []
    try:
        for start in range(3):
            with dev_stack_running(state_dir, api_port, sandbox_port) as stack:
                # Everything hidden by earlier runs is still hidden, once, and listed.
                leaky.append(check_the_demo_works(stack, author=f"Kunde {start}"))
                tenant_keys.append(stack.api_key)
                assert stack.stop() == 0, "\n".join(stack.output)
    finally:
        remove_private_dirs(state_dir)
    assert len(set(leaky)) == 3
    # One demo tenant, one key kept across runs.
    assert len(set(tenant_keys)) == 1
