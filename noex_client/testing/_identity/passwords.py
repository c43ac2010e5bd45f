"""Password hashing with scrypt from the standard library.

A stored hash is ``scrypt$<n>$<r>$<p>$<salt hex>$<key hex>``: the parameters
travel with the hash, every password gets its own random salt, and
verification compares in constant time. Hashing takes tens of
milliseconds by design; callers run it off the event loop.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

__all__ = ["hash_password", "verify_password"]

_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=64 * 1024 * 1024
    )


def hash_password(password: str) -> str:
    """Hash ``password`` with a fresh random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _derive(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${key.hex()}"


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def _matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(key)
        derived = _derive(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(derived, expected)


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches the ``stored`` hash.

    ``None`` (no such user) never matches, but costs as much time as a wrong
    password, so a caller cannot tell missing users from wrong passwords by
    timing. A malformed ``stored`` value never matches.
    """
    if stored is None:
        _matches(password, _dummy_hash())
        return False
    return _matches(password, stored)
