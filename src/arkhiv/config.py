"""Settings: frozen models loaded once; defaults < config file < ARKHIV_* env < flags."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from arkhiv.errors import ConfigError
from arkhiv.metadata.ref import CitationStyle

# The repository's pipelines/ folder (editable install) and the working directory's.
_REPO_ROOT = Path(__file__).resolve().parents[2]


class OutputType(StrEnum):
    """What PDF each document becomes."""

    PDFA_2 = "pdfa-2"
    PDFA_3 = "pdfa-3"
    PDF = "pdf"


class PdfWithText(StrEnum):
    """What to do with a PDF page that already has text (born-digital or OCRed before)."""

    REDO = "redo"  # rasterize the page and OCR it like a scan (a uniform PDF/A and text)
    SKIP = "skip"  # leave it out; recorded as skipped with the reason


@dataclass(frozen=True)
class OcrSettings:
    """Tesseract settings; every field here changes the OCR result, so it is in the page key."""

    languages: tuple[str, ...] = ("ukr",)
    # Turn pages upright: the orientation comes from the reading itself (Tesseract --psm 1)
    # and the PDF page gets /Rotate; the scan is not resampled.
    rotate_pages: bool = True
    # Read a page skewed by a degree or more, or with a dark scan border, from a straightened
    # copy with the border masked (issue 14). The PDF keeps the scan as it is.
    deskew: bool = True
    # unpaper's cleaning is not offered (it erases faint text): only false is accepted.
    clean: bool = False
    psm: int | None = None
    rotate_pages_threshold: float = 14.0  # no longer used: orientation comes from the reading
    page_timeout: float = 600.0
    # A page whose completeness check fails (ink unread, rows out of order) or that reads with a
    # low mean word confidence or few words is read again with other strategies (a cleaned-up
    # copy, one column upright, an enlarged copy); the reading covering the ink best is kept.
    retry: bool = True
    retry_below_confidence: float = 90.0
    retry_min_words: int = 50
    retry_languages: tuple[str, ...] = ()  # empty: the same as `languages`

    def all_languages(self) -> tuple[str, ...]:
        """Every Tesseract language pack these settings use."""
        return tuple(dict.fromkeys((*self.languages, *self.retry_languages)))


@dataclass(frozen=True)
class PdfSettings:
    """How the per-document searchable PDF is written."""

    output_type: OutputType = OutputType.PDFA_2
    # OCRmyPDF's optimization level: 0 keeps the scans' images as they are. Level 1 (lossless)
    # saved 1-6% on JPEG pages and nothing on PNG or TIFF, for 7% of the ingest time (issue 7).
    optimize: int = 0


@dataclass(frozen=True)
class Pipeline:
    """A named processing profile (pipelines/NAME.toml)."""

    name: str = "default"
    description: str = ""
    ocr: OcrSettings = field(default_factory=OcrSettings)
    pdf: PdfSettings = field(default_factory=PdfSettings)


@dataclass(frozen=True)
class IngestSettings:
    """How a batch is processed."""

    jobs: int = 0  # 0: one worker per core
    default_dpi: int = 300
    min_dpi: int = 100
    max_dpi: int = 2400
    pipeline: str = "default"
    index_batch_pages: int = 200  # pages per index commit
    # Larger images are refused (decompression bombs); an A3 page at 600 dpi is 70 MP.
    max_image_megapixels: float = 250.0
    pdf_with_text: PdfWithText = field(default_factory=lambda: PdfWithText.REDO)


@dataclass(frozen=True)
class WatchSettings:
    """How `arkhiv watch` takes files from an inbox."""

    quiet_seconds: float = 5.0  # unchanged size and mtime this long: the file is complete
    rescan_seconds: float = 30.0  # full rescan even without file-system events
    marker: str = ""  # e.g. "READY": take a folder only once this file is in it
    processed_dir: Path | None = None  # default: INBOX/processed
    failed_dir: Path | None = None  # default: INBOX/failed
    max_attempts: int = 3  # tries for a transient failure (tool crash, locked file, full disk)
    retry_seconds: float = 60.0  # wait before the 2nd try; doubled for each further try
    undecodable_grace_seconds: float = 60.0  # a stable file that does not decode yet: wait


@dataclass(frozen=True)
class SearchSettings:
    """Defaults of `arkhiv search`."""

    limit: int = 10


@dataclass(frozen=True)
class MetadataSettings:
    """Where archival metadata comes from and what a document must have (issue 6)."""

    # Path template mapping the last folders of a document's path to its reference, e.g.
    # "{archive}/{fond}/{opys}/{sprava}"; "" = none. Flag: --layout.
    layout: str = ""
    # Fields every document must have, e.g. ("archive", "fond", "opys", "sprava").
    required: tuple[str, ...] = ()
    # How citations are printed: "legend" (ф. 1, оп. 2, спр. 3) or "biblio" (Ф. 1. Оп. 2. Спр. 3).
    citation_style: CitationStyle = CitationStyle.LEGEND


@dataclass(frozen=True)
class Settings:
    """All settings of one run. Each stage receives only its own section."""

    archive: Path = Path("arkhiv-data")
    pipelines_dir: Path | None = None
    ingest: IngestSettings = field(default_factory=IngestSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    watch: WatchSettings = field(default_factory=WatchSettings)
    metadata: MetadataSettings = field(default_factory=MetadataSettings)


_SECTIONS: dict[str, type[Any]] = {
    "ingest": IngestSettings,
    "search": SearchSettings,
    "watch": WatchSettings,
    "metadata": MetadataSettings,
    "ocr": OcrSettings,
    "pdf": PdfSettings,
}


_RUN_SECTIONS = ("ingest", "search", "watch", "metadata")


# Settings whose value is one of a few words, by the type name their field declares.
_ENUMS: dict[str, type[StrEnum]] = {
    "OutputType": OutputType,
    "PdfWithText": PdfWithText,
    "CitationStyle": CitationStyle,
}


def _coerce(value: Any, typ: Any, where: str) -> Any:
    """Check and convert one settings value to the declared type."""
    t = str(typ)
    try:
        if t in ("bool",):
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            if not isinstance(value, bool):
                raise ValueError(value)
            return value
        if t == "int":
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if t == "float":
            return float(value)
        if t == "int | None":
            return None if value in (None, "", "none") else int(value)
        if t == "tuple[str, ...]":
            if isinstance(value, str):
                value = [v for v in value.replace(",", "+").split("+") if v]
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError(value)
            return tuple(value)
        if t in _ENUMS:
            return _ENUMS[t](value)
        if t in ("Path", "Path | None"):
            return None if value in (None, "") and t != "Path" else Path(str(value)).expanduser()
        if t == "str":
            if not isinstance(value, str):
                raise ValueError(value)
            return value
    except (ValueError, TypeError) as e:
        expected = " | ".join(m.value for m in _ENUMS[t]) if t in _ENUMS else t
        raise ConfigError(f"{where}: invalid value {value!r} (expected {expected})") from e
    raise ConfigError(f"{where}: unsupported setting type {t}")


def _apply(obj: Any, values: Mapping[str, Any], where: str) -> Any:
    """Return a copy of a settings dataclass with `values` applied; unknown keys rejected."""
    known = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(
                f"{where}: unknown key {key!r}",
                hint=f"known keys: {', '.join(sorted(known))}",
            )
        changes[key] = _coerce(value, known[key].type, f"{where}: {key}")
    return replace(obj, **changes)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: settings file not found") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e


def _env_overrides(env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """ARKHIV_ARCHIVE, ARKHIV_PIPELINES_DIR and ARKHIV_<SECTION>_<KEY> (e.g. ARKHIV_INGEST_JOBS)."""
    out: dict[str, dict[str, Any]] = {"": {}}
    for name, value in env.items():
        if not name.startswith("ARKHIV_") or name == "ARKHIV_CONFIG":
            continue
        rest = name[len("ARKHIV_") :].lower()
        if rest in ("archive", "pipelines_dir"):
            out[""][rest] = value
            continue
        section, _, key = rest.partition("_")
        known = {f.name for f in fields(_SECTIONS[section])} if section in _SECTIONS else set()
        if section in _RUN_SECTIONS and key in known:
            out.setdefault(section, {})[key] = value
        else:
            raise ConfigError(
                f"environment variable {name}: not an arkhiv setting",
                hint="use ARKHIV_ARCHIVE, ARKHIV_CONFIG, ARKHIV_PIPELINES_DIR or "
                "ARKHIV_<SECTION>_<KEY> for a key of [ingest], [search], [watch] or [metadata]",
            )
    return out


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Load settings once: defaults < config file < ARKHIV_* environment < flags (`overrides`).

    The config file is `config_file`, else $ARKHIV_CONFIG, else ./arkhiv.toml when it exists.
    `overrides` maps a section ("" for top level) to keys, e.g. {"ingest": {"jobs": 2}}.
    """
    env = os.environ if env is None else env
    settings = Settings()
    layers: list[tuple[str, Mapping[str, Any]]] = []
    path = config_file or (Path(env["ARKHIV_CONFIG"]) if env.get("ARKHIV_CONFIG") else None)
    if path is None and Path("arkhiv.toml").is_file():
        path = Path("arkhiv.toml")
    if path is not None:
        data = _read_toml(path)
        top = {k: v for k, v in data.items() if not isinstance(v, dict)}
        layers.append(
            (str(path), {"": top, **{k: v for k, v in data.items() if isinstance(v, dict)}})
        )
    layers.append(("environment", _env_overrides(env)))
    if overrides:
        layers.append(("command line", overrides))
    for where, layer in layers:
        for section, values in layer.items():
            if not values:
                continue
            if section == "":
                settings = _apply(settings, values, where)
            elif section in _RUN_SECTIONS:
                sub = _apply(getattr(settings, section), values, f"{where} [{section}]")
                settings = replace(settings, **{section: sub})
            else:
                raise ConfigError(
                    f"{where}: unknown section [{section}]",
                    hint="known sections: [ingest], [search], [watch], [metadata]; OCR and PDF "
                    "settings live in pipelines/NAME.toml",
                )
    if settings.ingest.jobs < 0:
        raise ConfigError(f"ingest.jobs must be 0 (all cores) or more, not {settings.ingest.jobs}")
    return settings


def pipeline_search_path(settings: Settings) -> list[Path]:
    """Folders searched for pipelines/NAME.toml, first match wins."""
    dirs = [settings.pipelines_dir] if settings.pipelines_dir else []
    return [*dirs, Path("pipelines"), _REPO_ROOT / "pipelines"]


def load_pipeline(
    name_or_path: str,
    settings: Settings,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Pipeline:
    """Load a processing profile by name (pipelines/NAME.toml) or by path to a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml":
        path: Path | None = candidate if candidate.is_file() else None
    else:
        path = next(
            (
                d / f"{name_or_path}.toml"
                for d in pipeline_search_path(settings)
                if (d / f"{name_or_path}.toml").is_file()
            ),
            None,
        )
    if path is None:
        available = sorted(
            {p.stem for d in pipeline_search_path(settings) if d.is_dir() for p in d.glob("*.toml")}
        )
        raise ConfigError(
            f"pipeline {name_or_path!r} not found",
            hint=f"available: {', '.join(available) or 'none'}",
        )
    data = _read_toml(path)
    pipe = Pipeline(name=path.stem)
    for key, value in data.items():
        where = f"{path}"
        if key == "description":
            pipe = replace(pipe, description=str(value))
        elif key in ("ocr", "pdf") and isinstance(value, dict):
            pipe = replace(pipe, **{key: _apply(getattr(pipe, key), value, f"{where} [{key}]")})
        else:
            raise ConfigError(
                f"{where}: unknown key {key!r}", hint="known: description, [ocr], [pdf]"
            )
    for section, values in (overrides or {}).items():
        if values:
            sub = _apply(getattr(pipe, section), values, f"command line [{section}]")
            pipe = replace(pipe, **{section: sub})
    if pipe.ocr.clean:
        raise ConfigError(
            f"{path} [ocr] clean = true: unpaper's cleaning is no longer offered",
            hint="remove the line: a cleaned-up copy is read instead when a page needs it",
        )
    return pipe


# How arkhiv reads a page with the settings above; raised when that changes the text, so that
# pages are read again with the new method. 2: orientation from the OCR pass, retries (issue 7).
# 3: arkhiv reads the page itself: straightened, completeness check, recovery, № (issue 14).
OCR_METHOD = 3


def ocr_key_material(ocr: OcrSettings) -> dict[str, Any]:
    """The settings that change OCR output (page_timeout does not), for the page cache key."""
    d = dataclasses.asdict(ocr)
    d.pop("page_timeout")
    d["method"] = OCR_METHOD
    return d
