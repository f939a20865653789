"""A password hasher that counts its work, for the tests that every login attempt hashes once."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class CountingArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 as in production (same algorithm name, reads the same hashes), counting each hash."""

    calls = 0

    def encode(self, password, salt):
        type(self).calls += 1
        return super().encode(password, salt)

    def verify(self, password, encoded):
        type(self).calls += 1
        return super().verify(password, encoded)
