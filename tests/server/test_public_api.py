"""The public surface of ``noex_client.testing``."""

import noex_client.testing as testing


def test_exported_names() -> None:
    assert sorted(testing.__all__) == [
        "AuditConfig",
        "AuthConfig",
        "ConfigError",
        "IdentityConfig",
        "LocalServer",
        "PermissionRule",
        "QueryContext",
        "RateLimit",
        "ServerConfig",
        "Session",
    ]
    for name in testing.__all__:
        assert getattr(testing, name).__doc__, name


def test_config_error_is_a_value_error() -> None:
    assert issubclass(testing.ConfigError, ValueError)
