from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.devstack.processes import remove_private_dirs


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    state = tmp_path / "state"
    yield state
    remove_private_dirs(state)
