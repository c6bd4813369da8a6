"""The tenant's password policy, applied wherever a customer sets a password.

Following NIST SP 800-63B: a minimum length, no truncation, every Unicode character kept (NFKC
normalised so that the same password typed on two keyboards hashes the same), and a check against
common passwords. Character-class rules exist for tenants that must match Magento's.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from service.errors import ErrorCode, FieldError, InvalidInput
from service.platform.passwords import Argon2Parameters
from service.tenants.settings import PasswordPolicy

MAX_PASSWORD_LENGTH = 1024  # far beyond any human password; bounds the cost of hashing


@cache
def _common_passwords() -> frozenset[str]:
    text = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def _character_classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def check_password(password: str, policy: PasswordPolicy, field: str = "password") -> str:
    """The normalised password, or InvalidInput saying exactly which rule it breaks."""
    normalized = normalize_password(password)
    problem = None
    if len(normalized) < policy.min_length:
        problem = f"must be at least {policy.min_length} characters"
    elif len(normalized) > MAX_PASSWORD_LENGTH:
        problem = f"must be at most {MAX_PASSWORD_LENGTH} characters"
    elif _character_classes(normalized) < policy.required_character_classes:
        problem = (
            f"must mix at least {policy.required_character_classes} of: lower-case letters, upper-case letters, "
            "digits, other characters"
        )
    elif policy.reject_common and normalized.casefold() in _common_passwords():
        problem = "is one of the most common passwords; choose one that is harder to guess"
    if problem:
        raise InvalidInput(
            f"The password {problem}.", code=ErrorCode.PASSWORD_POLICY, field_errors=(FieldError(field, problem),)
        )
    return normalized


def argon2_parameters(policy: PasswordPolicy) -> Argon2Parameters:
    return Argon2Parameters(policy.argon2_memory_kib, policy.argon2_iterations, policy.argon2_parallelism)
