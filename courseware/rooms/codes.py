"""Room codes that are easy to read aloud and type, and presenter tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# No 0/O or 1/I/L: 31 symbols, six of them make ~887 million codes.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(code: str) -> str:
    """What a person typed, as a code: case and spaces/dashes do not matter."""
    return "".join(ch for ch in str(code).upper() if ch.isalnum())[:12]


def looks_like_code(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, token_hash: str) -> bool:
    if not token:
        return False
    return hmac.compare_digest(hash_token(token), token_hash)
