"""The reconnect policy is pure: delays from options, a fatal close-code predicate."""

from __future__ import annotations

import itertools
import random

import pytest

from noex_client import ReconnectOptions, ReconnectPolicy
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
