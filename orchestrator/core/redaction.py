"""Secrets kept out of what the project writes and prints: the password of a URL (`scheme://user:PASSWORD@host`)
and a `password=` parameter (a URL's query, a libpq key=value string) become `***`.

Every command line, store URL or message that is recorded (owner.json, the resume command, store messages, the
errors the CLI prints) goes through `redact`. It errs on the side of hiding: within a URL (up to the next
whitespace) everything from the first `:` after `scheme://` to the last `@` is the password, so a password holding
an unescaped `@`, `:` or `/` is hidden whole, and several URLs in one text are each redacted. A password that
libpq reads by itself (PGPASSWORD, ~/.pgpass) is never in a URL, so it is never written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*")
_PASSWORD_PARAMETER = re.compile(r"(?i)(\bpassword=)[^\s&#]+")


def redact(text: str) -> str:
    """`text` with the password of every URL and every `password=` value replaced by `***`."""
    text = _URL.sub(lambda match: _redact_url(match.group(0)), text)
    return _PASSWORD_PARAMETER.sub(lambda match: match.group(1) + MASK, text)


def redact_argv(argv: Iterable[str]) -> list[str]:
    """A command line (`--store URL`, `--store=URL`, anything holding a URL) with its passwords redacted."""
    return [redact(word) for word in argv]


def has_password(text: str) -> bool:
    """Whether `text` holds a password that `redact` hides."""
    return redact(text) != text


def _redact_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    at = rest.rfind("@")
    if at < 0:
        return url
    user, colon, _password = rest[:at].partition(":")
    if not colon:
        return url
    return f"{scheme}://{user}:{MASK}{rest[at:]}"
