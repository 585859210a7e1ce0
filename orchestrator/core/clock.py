"""Timestamps as every result records them: UTC, ISO 8601, seconds."""

from __future__ import annotations

import datetime as _dt


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
