"""Shared fixtures: one local Spark session for every test that compares engines."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """``local[2]`` with few shuffle partitions: start-up costs seconds, so one per run."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    os.environ.setdefault("STAGEHUNT_SPARK_PARTITIONS", "2")
    from stagehunt.backends import spark as spark_backend

    session = spark_backend.session("local[2]")
    yield session
    spark_backend.stop()


@pytest.fixture(autouse=True, scope="session")
def _sigma_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`stagehunt sigma` caches conversions (sigma/cache.py): tests, and the commands they
    start, keep theirs in a temporary folder, never in the user's cache."""
    old = os.environ.get("STAGEHUNT_CACHE_DIR")
    os.environ["STAGEHUNT_CACHE_DIR"] = str(tmp_path_factory.mktemp("sigma-cache"))
    yield
    if old is None:
        os.environ.pop("STAGEHUNT_CACHE_DIR", None)
    else:
        os.environ["STAGEHUNT_CACHE_DIR"] = old
