"""Card numbers: digits with a Luhn check digit (ISO/IEC 7812), as tills and scanners expect."""

from __future__ import annotations

import secrets

CARD_PREFIX = "86"
CARD_LENGTH = 16


def luhn_digit(body: str) -> str:
    """The check digit to append to ``body`` (a string of digits).

    >>> luhn_digit("7992739871")
    '3'
    """
    total = 0
    for i, char in enumerate(reversed(body)):
        d = int(char)
        if i % 2 == 0:  # doubled: the digit next to the check digit, then every other one
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def card_valid(number: str) -> bool:
    """Digits only, 8 to 19 of them, and the last one the Luhn check digit of the rest."""
    return (
        isinstance(number, str)
        and number.isascii()
        and number.isdigit()
        and 8 <= len(number) <= 19
        and luhn_digit(number[:-1]) == number[-1]
    )


def card_new() -> str:
    """A random card number: prefix, random digits, check digit."""
    body = CARD_PREFIX + "".join(
        secrets.choice("0123456789") for _ in range(CARD_LENGTH - len(CARD_PREFIX) - 1)
    )
    return body + luhn_digit(body)


REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def referral_code_new() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(8))
