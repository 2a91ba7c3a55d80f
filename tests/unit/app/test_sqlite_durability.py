"""SQLite commits are flushed to the disk by default (PRAGMA synchronous=FULL), so an audit
event committed before a disclosure survives a power cut; the setting can lower it for
throwaway databases (the test suite does), and refuses a value it does not know."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseshare.config import ConfigError, load_settings
from caseshare.db import make_engine

LEVELS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def synchronous_of(url: str, **kw: str) -> str:
    engine = make_engine(url, **kw)
    try:
        with engine.connect() as conn:
            return LEVELS[conn.exec_driver_sql("PRAGMA synchronous").scalar_one()]
    finally:
        engine.dispose()


def test_the_default_flushes_every_commit(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={"instance_path": tmp_path})
    assert settings.sqlite_synchronous == "FULL"
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert synchronous_of(url) == "FULL"
    assert synchronous_of(url, synchronous=settings.sqlite_synchronous) == "FULL"


def test_the_setting_is_read_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(environ={"CASESHARE_SQLITE_SYNCHRONOUS": "normal"},
                             overrides={"instance_path": tmp_path})
    assert settings.sqlite_synchronous == "NORMAL"
    assert synchronous_of(f"sqlite:///{tmp_path / 'b.db'}", synchronous="NORMAL") == "NORMAL"


def test_an_unknown_level_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CASESHARE_SQLITE_SYNCHRONOUS"):
        load_settings(environ={"CASESHARE_SQLITE_SYNCHRONOUS": "OFF; DROP TABLE x"},
                      overrides={"instance_path": tmp_path})
