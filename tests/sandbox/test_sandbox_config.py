from __future__ import annotations

from service.sandbox import SandboxConfig


def test_config_from_env() -> None:
    config = SandboxConfig.from_env(
        {"META_APP_ID": "a", "META_APP_SECRET": "s", "WALLGUARD_SANDBOX_PAGES": "4"}, seed=True
    )
    assert (config.app_id, config.app_secret, config.pages, config.seed) == ("a", "s", 4, 1)
    assert SandboxConfig.from_env({}, seed=False).seed is None
    assert SandboxConfig.from_env({"WALLGUARD_SANDBOX_SEED": "9"}).seed == 9
    assert SandboxConfig.from_env({}).app_id == "sandbox-app"
