"""The reconnect policy is pure: delays from options, a fatal close-code predicate."""

from __future__ import annotations

import itertools
import random

import pytest

from noex_client import ConnectError, ReconnectOptions, ReconnectPolicy
from noex_client._errors import error_from_server
from noex_client._reconnect import is_retryable


def test_exponential_delays_capped_without_jitter() -> None:
    opts = ReconnectOptions(
        initial_delay_ms=100, max_delay_ms=1_000, backoff_multiplier=2, jitter_ms=0
    )
    delays = list(itertools.islice(ReconnectPolicy(opts).delays(), 6))
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_jitter_stays_within_bounds_and_is_reproducible() -> None:
    opts = ReconnectOptions(initial_delay_ms=100, max_delay_ms=100, jitter_ms=50)
    first = list(itertools.islice(ReconnectPolicy(opts, random.Random(1)).delays(), 50))
    again = list(itertools.islice(ReconnectPolicy(opts, random.Random(1)).delays(), 50))
    assert first == again
    assert all(0.1 <= d <= 0.15 for d in first)
    assert len(set(first)) > 1


def test_max_retries_bounds_the_attempts() -> None:
    opts = ReconnectOptions(max_retries=3, jitter_ms=0)
    assert len(list(ReconnectPolicy(opts).delays())) == 3
    assert list(ReconnectPolicy(ReconnectOptions(max_retries=0)).delays()) == []


def test_infinite_retries_never_overflow() -> None:
    opts = ReconnectOptions(initial_delay_ms=1, max_delay_ms=30_000, jitter_ms=0)
    delays = list(itertools.islice(ReconnectPolicy(opts).delays(), 5_000))
    assert delays[-1] == 30.0


def test_each_outage_starts_from_the_initial_delay() -> None:
    policy = ReconnectPolicy(ReconnectOptions(initial_delay_ms=10, jitter_ms=0))
    first = policy.delays()
    assert [next(first), next(first), next(first)] == [0.01, 0.02, 0.04]
    assert next(policy.delays()) == 0.01  # a fresh iterator per outage: the reset


@pytest.mark.parametrize("code", [1003, 4002, 4003])
def test_fatal_codes_are_not_retryable(code: int) -> None:
    assert not is_retryable(code)
    assert not ReconnectPolicy(ReconnectOptions()).is_retryable(code)


@pytest.mark.parametrize("code", [1000, 1001, 1006, 1009, 1011, 4000, 4001])
def test_other_codes_are_retryable(code: int) -> None:
    assert is_retryable(code)


def test_fatal_close_codes_are_injectable() -> None:
    policy = ReconnectPolicy(fatal_close_codes={4001, 4002})
    assert not policy.is_retryable(4001)
    assert policy.is_retryable(4003)  # no longer fatal for this policy
    assert policy.fatal_close_codes == frozenset({4001, 4002})
    assert "4001" in repr(policy)
    assert ReconnectPolicy().fatal_close_codes == frozenset({1003, 4002, 4003})


def test_rejected_logins_are_fatal_other_errors_are_retried() -> None:
    policy = ReconnectPolicy()
    assert policy.is_fatal(error_from_server("UNAUTHORIZED", "Invalid token"))
    assert policy.is_fatal(error_from_server("SESSION_REVOKED", "Session has been revoked"))
    assert not policy.is_fatal(error_from_server("INTERNAL_ERROR", "boom"))
    assert not policy.is_fatal(ConnectError("refused"))


class _KeepTrying(ReconnectPolicy):
    def is_fatal(self, error: Exception) -> bool:
        return False


def test_a_subclass_can_override_the_predicates() -> None:
    assert not _KeepTrying().is_fatal(error_from_server("UNAUTHORIZED", "Invalid token"))
