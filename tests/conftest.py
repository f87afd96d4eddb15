"""Shared fixtures: the repository's samples, settings for a temporary archive."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from arkhiv.config import Pipeline, Settings, load_pipeline, load_settings

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
SPRAVA = SAMPLES / "ДАЗО_ф.Р-123_оп.4_спр.56"


def needs_tesseract() -> pytest.MarkDecorator:
    return pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")


@pytest.fixture
def settings_for(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Settings pointing at an archive folder under tmp_path, two workers."""

    def make(archive: Path | None = None, **ingest: object) -> Settings:
        return load_settings(
            env={},
            overrides={
                "": {"archive": archive or tmp_path / "archive"},
                "ingest": {"jobs": 2, **ingest},
            },
        )

    return make


def default_pipeline(settings: Settings) -> Pipeline:
    return load_pipeline("default", settings)
