from __future__ import annotations

from service.sandbox import SandboxConfig, Store


def test_config_from_env() -> None:
    config = SandboxConfig.from_env(
        {"META_APP_ID": "a", "META_APP_SECRET": "s", "WALLGUARD_SANDBOX_PAGES": "4"}, seed=True
    )
    assert (config.app_id, config.app_secret, config.pages, config.seed) == ("a", "s", 4, 1)
    assert SandboxConfig.from_env({}, seed=False).seed is None
    assert SandboxConfig.from_env({"WALLGUARD_SANDBOX_SEED": "9"}).seed == 9
    assert SandboxConfig.from_env({}).app_id == "sandbox-app"


def test_sandboxes_with_different_offsets_never_share_ids() -> None:
    first, second = Store(SandboxConfig(pages=2)), Store(SandboxConfig(pages=2, id_offset=1000))
    ids = [{*s.pages, *s.ig_users} for s in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 4
    assert ids[0].isdisjoint(ids[1])
    second.reset()
    assert {*second.pages, *second.ig_users} == ids[1]  # a reset starts from the offset again
