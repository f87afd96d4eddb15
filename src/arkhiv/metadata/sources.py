"""Where a document's metadata comes from: layout template, sidecars, manifest CSV, --set.

Precedence, later wins: 1. the path template (`--layout`); 2. `arkhiv.yaml`/`.json` sidecars
from the batch folder down to the document (a deeper one wins); 3. the manifest row
(`--manifest`); 4. `--set key=value` (and `--sides`). Each value is checked where it is read,
so an error names its file, row or key.
"""

from __future__ import annotations

import csv
import io
import json
import re
import stat
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from arkhiv.errors import ConfigError, MetadataError, UsageError
from arkhiv.metadata.fields import KEYS, DocumentMetadata, check_value
from arkhiv.metadata.leaves import assign_leaves, check_leaves
from arkhiv.metadata.ref import ArchivalRef, Leaf
from arkhiv.models import DocumentSource, SourceKind

SIDECAR_NAMES = ("arkhiv.yaml", "arkhiv.yml", "arkhiv.json")
MANIFEST_PATH_COLUMN = "path"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_IGNORED_PLACEHOLDERS = ("_", "*")


@dataclass(frozen=True)
class MetadataRequest:
    """What a batch was told about its metadata on the command line."""

    layout: str = ""
    manifest: Path | None = None
    sets: tuple[tuple[str, str], ...] = ()
    sides: str | None = None


@dataclass
class Layer:
    """Checked values from one source, and where each was set."""

    values: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentPlan:
    """A document's resolved metadata and leaves, or why it cannot be ingested."""

    metadata: DocumentMetadata | None
    leaves: tuple[Leaf, ...] = ()
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.metadata is not None and not self.errors


def parse_sets(items: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """`--set key=value` arguments; a malformed one is a usage error."""
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(
                f"--set {item!r}: expected key=value", hint='e.g. --set "title=Накази 1937"'
            )
        if key not in KEYS:
            raise UsageError(f"--set {item!r}: unknown key {key!r}", hint=_known_keys())
        out.append((key, value))
    return tuple(out)


def _known_keys() -> str:
    return "known keys: " + ", ".join(KEYS)


def build_layer(items: Mapping[str, Any] | Sequence[tuple[str, Any]], where: str) -> Layer:
    """Check each key and value; `ref` is expanded into its parts.

    Raises ValueError naming `where` and the key. A part given both in `ref` and on its own
    must agree: two different fonds in one file is a mistake, not a precedence question.
    """
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    layer = Layer()
    refs: list[ArchivalRef] = []
    for key, raw in pairs:
        key = str(key).strip()
        if key not in KEYS:
            raise ValueError(f"{where}: unknown key {key!r} ({_known_keys()})")
        if raw is None or raw == "":
            continue
        try:
            value = check_value(key, raw)
        except ValueError as e:
            raise ValueError(f"{where}: {key}: {e}") from None
        if key == "ref":
            refs.append(value)
            continue
        layer.values[key] = value
        layer.origin[key] = where
    for ref in refs:
        for part, value in ref.parts().items():
            if part in layer.values and layer.values[part] != value:
                raise ValueError(
                    f"{where}: ref gives {part} {value!r} but {part} is {layer.values[part]!r}"
                )
            layer.values[part] = value
            layer.origin[part] = where
    return layer


# 1. layout template
def compile_layout(template: str) -> list[tuple[str, re.Pattern[str]]]:
    """One regular expression per path segment of a template such as
    "{archive}/ф. {fond}/{opys}/{sprava}"; `{_}` matches a folder that is ignored."""
    segments = [s for s in template.strip().strip("/").split("/") if s]
    if not segments:
        raise UsageError(
            f"layout {template!r}: empty", hint='e.g. "{archive}/{fond}/{opys}/{sprava}"'
        )
    patterns = []
    seen: set[str] = set()
    for segment in segments:
        regex = ""
        pos = 0
        for m in _PLACEHOLDER.finditer(segment):
            regex += re.escape(segment[pos : m.start()])
            name = m.group(1).strip()
            if name in _IGNORED_PLACEHOLDERS:
                regex += ".+?"
            elif name not in KEYS or name in seen:
                problem = "twice" if name in seen else "unknown placeholder"
                raise UsageError(
                    f"layout {template!r}: {problem} {{{name}}}",
                    hint="placeholders: {_} and " + ", ".join("{" + k + "}" for k in KEYS),
                )
            else:
                seen.add(name)
                regex += f"(?P<{name}>.+?)"
            pos = m.end()
        regex += re.escape(segment[pos:])
        patterns.append((segment, re.compile(regex, re.IGNORECASE)))
    return patterns


def layout_layer(
    template: str, patterns: Sequence[tuple[str, re.Pattern[str]]], doc: DocumentSource
) -> Layer:
    """Values the template reads from the last folders of the document's path (for a PDF or a
    multi-page TIFF, its name without the extension is the last segment)."""
    path = doc.path if doc.kind is SourceKind.FOLDER else doc.path.with_suffix("")
    parts = [unicodedata.normalize("NFC", p) for p in path.parts[1:]]
    where = f"layout {template!r} on {doc.path}"
    if len(parts) < len(patterns):
        raise ValueError(f"{where}: the path has fewer folders than the template")
    values: list[tuple[str, str]] = []
    for (segment, pattern), part in zip(patterns, parts[-len(patterns) :], strict=True):
        m = pattern.fullmatch(part)
        if m is None:
            raise ValueError(f"{where}: folder {part!r} does not match {segment!r}")
        values.extend((k, v) for k, v in m.groupdict().items())
    return build_layer(values, where)


# 2. sidecars
class SidecarReader:
    """Reads each sidecar once per batch; a broken one fails every document below it."""

    def __init__(self) -> None:
        self._cache: dict[Path, Layer | str | None] = {}

    def layer(self, folder: Path) -> Layer | None:
        """The sidecar of one folder, None when it has none; ValueError when it is broken."""
        if folder not in self._cache:
            try:
                self._cache[folder] = self._read(folder)
            except ValueError as e:
                self._cache[folder] = str(e)
        cached = self._cache[folder]
        if isinstance(cached, str):
            raise ValueError(cached)
        return cached

    @staticmethod
    def _read(folder: Path) -> Layer | None:
        found = [folder / n for n in SIDECAR_NAMES if (folder / n).is_file()]
        if not found:
            return None
        if len(found) > 1:
            raise ValueError(
                f"{folder}: two sidecars ({', '.join(p.name for p in found)}); keep one"
            )
        path = found[0]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not UTF-8 text; save it as UTF-8") from None
        except OSError as e:
            raise ValueError(f"{path}: cannot read it: {e.strerror or e}") from None
        try:
            # BaseLoader keeps every scalar a string: YAML 1.1 would read `opys: 012` as the
            # octal number 10 and `date: 1937-05-12` as a date object.
            data = json.loads(text) if path.suffix == ".json" else yaml.load(text, _SidecarLoader)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: line {e.lineno}: not valid JSON: {e.msg}") from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = f"line {mark.line + 1}: " if mark is not None else ""
            problem = getattr(e, "problem", None) or str(e)
            raise ValueError(f"{path}: {line}not valid YAML: {problem}") from None
        if data is None:
            return Layer()
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected key: value lines (a mapping)")
        if path.suffix == ".json":  # JSON numbers are fine as values; keep them as text
            data = {k: v if isinstance(v, list | dict | str) else str(v) for k, v in data.items()}
        return build_layer(data, str(path))


class _SidecarLoader(yaml.BaseLoader):
    """BaseLoader without aliases: an `*alias` can make a few hundred bytes expand into
    gigabytes (a "billion laughs"), and a sidecar has no use for them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not accepted in a sidecar", event.start_mark
            )
        return super().compose_node(parent, index)


def _sidecar_folders(doc: DocumentSource, root: Path) -> list[Path]:
    """Folders from the filesystem's root down to the document's folder, the top first: a
    sidecar above the batch's folder applies too (ingesting one справа of a tree reads the
    sidecars of its fond and opys, as ingesting the whole tree does)."""
    folder = doc.path if doc.kind is SourceKind.FOLDER else doc.path.parent
    return [*reversed(folder.parents), folder]


# 3. manifest
def _nfc(path: Path | str) -> str:
    return unicodedata.normalize("NFC", str(path))


def read_manifest(path: Path) -> list[tuple[int, str, Layer | str]]:
    """Rows of a manifest CSV: (row number, the path cell, a Layer or the row's error).

    The file as a whole must be readable and its header must name known fields (else
    MetadataError, exit 2); a bad cell fails that row's document only. UTF-8 (a BOM from Excel
    is fine); the delimiter is `,`, `;` (Excel in Ukrainian locale) or a tab.
    """
    if path.exists() and not path.is_dir() and not stat.S_ISREG(path.stat().st_mode):
        raise UsageError(f"{path}: the manifest is not a regular file (a pipe or device)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: manifest not found") from None
    except UnicodeDecodeError:
        raise MetadataError(
            f"{path}: the manifest is not UTF-8", hint='save it as "CSV UTF-8" and try again'
        ) from None
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as e:  # an unterminated quote, a field over csv's limit (131,072 chars)
        raise MetadataError(
            f"{path}: row {reader.line_num}: not valid CSV ({e})",
            hint='check that row\'s quotes (a quote inside a cell is written twice: "")',
        ) from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise MetadataError(f"{path}: the manifest is empty; its first row must name the fields")
    header = [c.strip().lower() for c in rows[0]]  # `Path`, `Title` as written in Excel
    for i, name in enumerate(header, start=1):
        if name != MANIFEST_PATH_COLUMN and name not in KEYS:
            raise MetadataError(
                f"{path}: row 1, column {i}: unknown field {name!r}",
                hint=f"the columns are {MANIFEST_PATH_COLUMN} and any of: {', '.join(KEYS)}",
            )
    if MANIFEST_PATH_COLUMN not in header:
        raise MetadataError(
            f"{path}: row 1: no {MANIFEST_PATH_COLUMN!r} column",
            hint="each row names its document by its folder or file, relative to the batch",
        )
    if len(set(header)) != len(header):
        raise MetadataError(f"{path}: row 1: a column name appears twice")
    out: list[tuple[int, str, Layer | str]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        cells = dict(zip(header, row, strict=False))
        doc_path = cells.pop(MANIFEST_PATH_COLUMN, "").strip()
        if len(row) > len(header):
            out.append((number, doc_path, f"{path}: row {number}: more cells than columns"))
            continue
        try:
            out.append((number, doc_path, build_layer(cells, f"{path}: row {number}")))
        except ValueError as e:
            out.append((number, doc_path, str(e)))
    return out


# resolution
def _root_of(doc: DocumentSource, roots: Sequence[Path]) -> Path:
    for root in roots:
        if doc.path == root or root in doc.path.parents:
            return root
    return doc.path


def recorded_layer(record: Mapping[str, Any]) -> Layer | None:
    """What the catalog recorded for a document (DocumentMetadata.to_json), as the lowest layer
    of a re-ingest: a field no source sets now keeps its recorded value, never replaced by
    less. None when the record cannot be read back (it is then left as it was)."""
    items: dict[str, Any] = dict(record.get("reference") or {})
    for key in ("archive_id", "title", "description", "rights", "notes", "access", "sides"):
        if record.get(key):
            items[key] = record[key]
    for key in ("creator", "language", "subject"):
        if record.get(key):
            items[key] = list(record[key])
    if record.get("date"):
        items["date"] = record["date"].get("text")
    for key in ("leaves", "first_leaf"):
        if record.get(key) not in (None, 1 if key == "first_leaf" else None):
            items[key] = str(record[key])
    old_origin = record.get("origin") or {}
    # Only what a source set then (a default, such as access: open, is not a recorded value).
    items = {k: v for k, v in items.items() if k in old_origin}
    try:
        layer = build_layer(items, "recorded")
    except ValueError:
        return None
    layer.origin = {k: str(old_origin.get(k) or "recorded") for k in layer.origin}
    return layer


def resolve(
    docs: Sequence[DocumentSource],
    roots: Sequence[Path],
    request: MetadataRequest,
    required: Sequence[str] = (),
    recorded: Mapping[Path, Mapping[str, Any]] | None = None,
) -> tuple[dict[Path, DocumentPlan], list[str]]:
    """Each document's plan, and the batch-level problems of the manifest ("row 7: no document
    at 'x'"; the caller names the manifest). `recorded`: the metadata the catalog holds for
    documents ingested before (the lowest layer: kept where no source sets a field now; a
    change of a recorded value is a warning of the document).

    Raises MetadataError/UsageError when the request as a whole is unusable.
    """
    unknown = [k for k in required if k not in KEYS]
    if unknown:
        raise ConfigError(f"metadata.required: unknown field(s) {', '.join(unknown)}")
    layout = request.layout.strip()
    patterns = compile_layout(layout) if layout else []
    try:
        cli = build_layer(list(request.sets), "--set")
        if request.sides:
            cli.values["sides"] = check_value("sides", request.sides)
            cli.origin["sides"] = "--sides"
    except ValueError as e:
        raise UsageError(str(e)) from None
    manifest_rows, problems = _manifest_rows(request, docs, roots)
    sidecars = SidecarReader()
    plans = {}
    for doc in docs:
        layers: list[Layer] = []
        errors: list[str] = []
        before = recorded_layer(recorded[doc.path]) if recorded and doc.path in recorded else None
        if before is not None:
            layers.append(before)
        try:
            if patterns:
                layers.append(layout_layer(layout, patterns, doc))
            for folder in _sidecar_folders(doc, _root_of(doc, roots)):
                sidecar = sidecars.layer(folder)
                if sidecar is not None:
                    layers.append(sidecar)
        except ValueError as e:
            errors.append(str(e))
        row = manifest_rows.get(_nfc(doc.path))
        if row is not None:
            if isinstance(row[1], str):
                errors.append(row[1])
            else:
                layers.append(row[1])
        layers.append(cli)
        plan = _plan(doc, layers, errors, required)
        if before is not None and plan.metadata is not None:
            plan = replace(plan, warnings=(*plan.warnings, *_changes(before, plan.metadata)))
        plans[doc.path] = plan
    return plans, problems


def _manifest_rows(
    request: MetadataRequest, docs: Sequence[DocumentSource], roots: Sequence[Path]
) -> tuple[dict[str, tuple[int, Layer | str]], list[str]]:
    """The manifest's rows by the document they describe, and the rows that describe none."""
    manifest_rows: dict[str, tuple[int, Layer | str]] = {}
    problems: list[str] = []
    if request.manifest is not None:
        by_name = {_nfc(d.path): d for d in docs}
        # A lone image in a folder is a document of one page: its row may name the file.
        lone = {
            _nfc(d.pages[0].path): d
            for d in docs
            if d.kind is SourceKind.FOLDER and len(d.pages) == 1
        }
        for number, cell, layer in read_manifest(request.manifest):
            bases = [r if r.is_dir() else r.parent for r in roots]
            candidates = [Path(cell)] if Path(cell).is_absolute() else [b / cell for b in bases]
            found = [by_name.get(_nfc(c)) or lone.get(_nfc(c)) for c in candidates if cell]
            matches = [d for d in found if d is not None]
            if not matches:
                what = f"no document at {cell!r}" if cell else "the path cell is empty"
                if cell:
                    what += f" (paths are relative to {bases[0]}, with / between folders)"
                problems.append(f"row {number}: {what}")
                continue
            key = _nfc(matches[0].path)
            if key in manifest_rows:
                problems.append(
                    f"row {number}: {cell!r} is already described in row {manifest_rows[key][0]}"
                )
                continue
            manifest_rows[key] = (number, layer)
    return manifest_rows, problems


def _changes(before: Layer, now: DocumentMetadata) -> list[str]:
    """Recorded values a source has changed, each "key: old -> new"."""
    out = []
    for key, old in before.values.items():
        new = now.get(key)
        if new != old:
            out.append(f"metadata changed: {key}: {_shown(old)} -> {_shown(new)}")
    return out


def _shown(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "; ".join(map(str, value))
    return str(getattr(value, "display", value))


def _plan(
    doc: DocumentSource, layers: Sequence[Layer], errors: list[str], required: Sequence[str]
) -> DocumentPlan:
    if errors:
        return DocumentPlan(None, errors=tuple(errors))
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for layer in layers:
        values.update(layer.values)
        origin.update(layer.origin)
    meta = DocumentMetadata.from_values(values, origin)
    missing = [k for k in required if meta.get(k) is None]
    if missing:
        errors.append(
            f"missing required field(s) {', '.join(missing)} (set them in an arkhiv.yaml, the "
            "manifest, the layout or with --set)"
        )
    warnings: list[str] = []
    leaves: list[Leaf] = []
    try:
        leaves = assign_leaves(doc.pages, meta.sides, meta.first_leaf)
    except ValueError as e:
        errors.append(str(e))
    else:
        leaf_errors, warnings = check_leaves(doc.pages, leaves, meta.leaves)
        declared_in = meta.origin.get("leaves")
        errors.extend(
            f"{declared_in}: {e}" if declared_in and e.startswith("declared") else e
            for e in leaf_errors
        )
    if errors:
        return DocumentPlan(meta, tuple(leaves), tuple(errors), tuple(warnings))
    return DocumentPlan(meta, tuple(leaves), (), tuple(warnings))
