"""Settings: precedence, validation with the file and key named, pipeline profiles."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from arkhiv.config import OutputType, load_pipeline, load_settings
from arkhiv.errors import ConfigError


def test_defaults() -> None:
    s = load_settings(env={})
    assert s.archive == Path("arkhiv-data")
    assert s.ingest.jobs == 0
    assert s.ingest.default_dpi == 300


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "arkhiv.toml"
    cfg.write_text('archive = "from-file"\n[ingest]\njobs = 3\ndefault_dpi = 200\n', "utf-8")
    s = load_settings(cfg, env={})
    assert (s.archive, s.ingest.jobs, s.ingest.default_dpi) == (Path("from-file"), 3, 200)
    s = load_settings(cfg, env={"ARKHIV_INGEST_JOBS": "1", "ARKHIV_ARCHIVE": "from-env"})
    assert (s.archive, s.ingest.jobs, s.ingest.default_dpi) == (Path("from-env"), 1, 200)
    s = load_settings(
        cfg, env={"ARKHIV_INGEST_JOBS": "1"}, overrides={"ingest": {"jobs": 2}, "": {}}
    )
    assert s.ingest.jobs == 2


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[ingest]\njobz = 2\n", "utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    assert str(cfg) in info.value.message
    assert "'jobz'" in info.value.message
    assert "jobs" in (info.value.hint or "")


def test_bad_value_and_bad_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[ingest]\njobs = "many"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"jobs: invalid value 'many'"):
        load_settings(cfg, env={})
    cfg.write_text("[ingest\n", "utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(cfg, env={})


def test_unknown_environment_variable_is_refused() -> None:
    with pytest.raises(ConfigError, match="ARKHIV_INGEST_SPEED"):
        load_settings(env={"ARKHIV_INGEST_SPEED": "9"})


def test_shipped_config_file_is_valid() -> None:
    repo = Path(__file__).resolve().parents[2]
    s = load_settings(repo / "config" / "arkhiv.toml", env={})
    assert s.ingest.pipeline == "default"


def test_pipelines_default_and_typewritten() -> None:
    s = load_settings(env={})
    default = load_pipeline("default", s)
    assert default.ocr.languages == ("ukr",)
    # Orientation from the OCR pass, poor pages read again (issue 7); skewed or bordered pages
    # read straightened (issue 14); no unpaper.
    assert default.ocr.rotate_pages and default.ocr.retry
    assert default.ocr.deskew and not default.ocr.clean
    assert default.pdf.output_type is OutputType.PDFA_2
    typewritten = load_pipeline("typewritten", s)
    assert "rus" in typewritten.ocr.languages
    # fast: the default one without the extra readings of incomplete or poor pages.
    fast = load_pipeline("fast", s)
    assert not fast.ocr.retry
    assert replace(fast.ocr, retry=True) == default.ocr and fast.pdf == default.pdf


def test_lang_flag_overrides_pipeline() -> None:
    s = load_settings(env={})
    p = load_pipeline("default", s, {"ocr": {"languages": "ukr+rus+eng"}})
    assert p.ocr.languages == ("ukr", "rus", "eng")


def test_unknown_pipeline_lists_available() -> None:
    with pytest.raises(ConfigError) as info:
        load_pipeline("nosuch", load_settings(env={}))
    assert "default" in (info.value.hint or "")
    assert "typewritten" in (info.value.hint or "")


def test_pipeline_unknown_key(tmp_path: Path) -> None:
    p = tmp_path / "mine.toml"
    p.write_text("[ocr]\nlanguage = ['ukr']\n", "utf-8")
    with pytest.raises(ConfigError, match="unknown key 'language'"):
        load_pipeline(str(p), load_settings(env={}))


def test_unpaper_cleaning_is_refused_with_the_way_out(tmp_path: Path) -> None:
    profile = tmp_path / "old.toml"
    profile.write_text("[ocr]\nclean = true\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_pipeline(str(profile), load_settings(env={}))
    assert "[ocr] clean = true: unpaper's cleaning is no longer offered" in info.value.message
    assert "remove the line" in (info.value.hint or "")
