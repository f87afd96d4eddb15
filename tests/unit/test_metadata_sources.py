"""Metadata sources: layout, inherited sidecars, manifest CSV, --set, precedence, leaves."""

from __future__ import annotations

from pathlib import Path

import pytest

from arkhiv.errors import MetadataError, UsageError
from arkhiv.metadata.fields import Access, Sides
from arkhiv.metadata.ref import Leaf
from arkhiv.metadata.sources import MetadataRequest, parse_sets, read_manifest, resolve
from arkhiv.models import DocumentSource, SourceKind, SourcePage
from arkhiv.pipeline.discover import discover


def _folder_doc(folder: Path, names: list[str]) -> DocumentSource:
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    for i, name in enumerate(names, start=1):
        (folder / name).write_bytes(b"x")
        pages.append(SourcePage(folder / name, None, i))
    return DocumentSource(folder, folder.name, SourceKind.FOLDER, tuple(pages))


def _pdf_doc(path: Path, pages: int) -> DocumentSource:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF")
    return DocumentSource(
        path, path.name, SourceKind.PDF, tuple(SourcePage(path, i, i + 1) for i in range(pages))
    )


def _resolve(docs, root, **request):  # type: ignore[no-untyped-def]
    plans, problems = resolve(docs, [root], MetadataRequest(**request))
    return plans, problems


def test_sidecars_are_inherited_and_a_deeper_one_wins(tmp_path: Path) -> None:
    root = tmp_path / "batch"
    doc = _folder_doc(root / "Р-123" / "4" / "56", ["1.tif", "2.tif"])
    (root / "arkhiv.yaml").write_text("archive: ДАЗО\nlanguage: uk\ntitle: верхній\n", "utf-8")
    (root / "Р-123" / "arkhiv.yaml").write_text("fond: P-123\n", "utf-8")  # Latin P
    (doc.path / "arkhiv.json").write_text(
        '{"opys": 4, "sprava": "56а", "title": "Справа 56а"}', "utf-8"
    )
    plans, problems = _resolve([doc], root)
    plan = plans[doc.path]
    assert plan.ok and not problems
    meta = plan.metadata
    assert meta is not None
    assert meta.citation() == "ДАЗО, ф. Р-123, оп. 4, спр. 56а"
    assert meta.title == "Справа 56а"  # the deeper sidecar wins
    assert meta.language == ("uk",)
    assert meta.origin["archive"] == str(root / "arkhiv.yaml")
    assert meta.origin["title"] == str(doc.path / "arkhiv.json")


def test_yaml_values_stay_text_no_octal_or_date_objects(tmp_path: Path) -> None:
    root = tmp_path / "b"
    doc = _folder_doc(root / "s", ["1.png"])
    (doc.path / "arkhiv.yaml").write_text("opys: 012\ndate: 1937-05-12\n", "utf-8")
    meta = _resolve([doc], root)[0][doc.path].metadata
    assert meta is not None
    assert meta.ref.opys == "12"  # not 10 (YAML 1.1 octal)
    assert meta.date is not None and meta.date.display == "12.05.1937"


def test_precedence_layout_sidecar_manifest_set(tmp_path: Path) -> None:
    root = tmp_path / "scans"
    doc = _folder_doc(root / "ДАЗО" / "Р-1" / "2" / "3", ["1.png"])
    (doc.path / "arkhiv.yaml").write_text("sprava: 30\ntitle: from sidecar\n", "utf-8")
    manifest = tmp_path / "m.csv"
    manifest.write_text("path;title;date\nДАЗО/Р-1/2/3;from manifest;1930\n", "utf-8")
    plans, problems = _resolve(
        [doc],
        root,
        layout="{archive}/{fond}/{opys}/{sprava}",
        manifest=manifest,
        sets=parse_sets(["date=1931-1932"]),
    )
    meta = plans[doc.path].metadata
    assert not problems and meta is not None
    assert meta.ref.archive == "ДАЗО" and meta.ref.fond == "Р-1"  # layout
    assert meta.ref.sprava == "30"  # the sidecar beats the layout
    assert meta.title == "from manifest"  # the manifest beats the sidecar
    assert meta.date is not None and (meta.date.year_from, meta.date.year_to) == (1931, 1932)
    assert meta.origin["date"] == "--set"


def test_layout_matches_the_last_folders_and_names_a_mismatch(tmp_path: Path) -> None:
    root = tmp_path / "x"
    good = _folder_doc(root / "ф.Р-7_оп.1" / "спр.12", ["1.png"])
    bad = _folder_doc(root / "інше" / "спр.13", ["1.png"])
    plans, _ = _resolve([good, bad], root, layout="ф.{fond}_оп.{opys}/спр.{sprava}")
    meta = plans[good.path].metadata
    assert meta is not None and meta.citation() == "ф. Р-7, оп. 1, спр. 12"
    assert not plans[bad.path].ok
    assert "folder 'інше' does not match" in plans[bad.path].errors[0]


def test_layout_on_a_pdf_uses_its_name_without_extension(tmp_path: Path) -> None:
    root = tmp_path / "x"
    doc = _pdf_doc(root / "Р-5" / "3" / "41.pdf", 2)
    meta = _resolve([doc], root, layout="{fond}/{opys}/{sprava}")[0][doc.path].metadata
    assert meta is not None and meta.citation() == "ф. Р-5, оп. 3, спр. 41"


@pytest.mark.parametrize(
    ("template", "message"),
    [("{fond}/{fund}", "unknown placeholder {fund}"), ("{fond}/{fond}", "twice {fond}")],
)
def test_bad_layout_template_is_a_usage_error(tmp_path: Path, template: str, message: str) -> None:
    doc = _folder_doc(tmp_path / "a" / "b", ["1.png"])
    with pytest.raises(UsageError, match=message):
        _resolve([doc], tmp_path, layout=template)


def test_sidecar_errors_name_the_file_and_key(tmp_path: Path) -> None:
    root = tmp_path / "b"
    doc = _folder_doc(root / "s", ["1.png"])
    other = _folder_doc(root / "t", ["1.png"])
    (doc.path / "arkhiv.yaml").write_text("fond: Р-1\ncolour: red\n", "utf-8")
    (other.path / "arkhiv.yaml").write_text("title: [unclosed\n", "utf-8")
    plans, _ = _resolve([doc, other], root)
    assert plans[doc.path].errors == (
        f"{doc.path / 'arkhiv.yaml'}: unknown key 'colour' (known keys: "
        + plans[doc.path].errors[0].split("(known keys: ")[1],
    )
    assert plans[other.path].errors[0].startswith(f"{other.path / 'arkhiv.yaml'}: line ")
    assert "not valid YAML" in plans[other.path].errors[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("fond: X-12\n", "fond: bad fond 'X-12'"),
        ("date: 31.02.1937\n", "date:"),
        ("leaves: нуль\n", "leaves: expected a whole number"),
        ("access: secret\n", "access: bad access 'secret'"),
        ("ref: ф. 1, оп. 2, спр. 3, арк. 4\n", "cannot name a leaf"),
        ("ref: ф. 1, оп. 2\nfond: 9\n", "ref gives fond '1' but fond is '9'"),
        ("language: українська\n", "bad language code"),
        ("- a\n- b\n", "expected key: value lines"),
    ],
)
def test_bad_values_are_reported_per_document(tmp_path: Path, content: str, message: str) -> None:
    root = tmp_path / "b"
    doc = _folder_doc(root / "s", ["1.png"])
    (doc.path / "arkhiv.yaml").write_text(content, "utf-8")
    plan = _resolve([doc], root)[0][doc.path]
    assert not plan.ok
    assert message in plan.errors[0], plan.errors


def test_two_sidecars_in_one_folder_are_refused(tmp_path: Path) -> None:
    doc = _folder_doc(tmp_path / "s", ["1.png"])
    (doc.path / "arkhiv.yaml").write_text("title: a\n", "utf-8")
    (doc.path / "arkhiv.json").write_text('{"title": "b"}', "utf-8")
    plan = _resolve([doc], tmp_path)[0][doc.path]
    assert "two sidecars" in plan.errors[0]


def test_manifest_rows_errors_carry_row_numbers(tmp_path: Path) -> None:
    root = tmp_path / "b"
    a = _folder_doc(root / "a", ["1.png"])
    c = _folder_doc(root / "c", ["1.png"])
    manifest = tmp_path / "batch.csv"
    manifest.write_text(
        "\ufeffpath,fond,date\na,Р-1,1937\nc,Р-2,1937-13-01\nmissing,Р-3,1937\na,Р-4,1938\n",
        "utf-8",
    )
    plans, problems = _resolve([a, c], root, manifest=manifest)
    meta = plans[a.path].metadata
    assert meta is not None and meta.ref.fond == "Р-1"  # a BOM from Excel is fine
    assert plans[c.path].errors[0].startswith(f"{manifest}: row 3: date:")
    # Where the path was looked for is said (issue 15, item 21).
    assert problems == [
        f"row 4: no document at 'missing' (paths are relative to {root}, with / between folders)",
        "row 5: 'a' is already described in row 2",
    ]


def test_manifest_may_name_the_lone_image_of_a_folder(tmp_path: Path) -> None:
    root = tmp_path / "b"
    doc = _folder_doc(root, ["газета.jpg"])
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,title\nгазета.jpg,Газета\n", "utf-8")
    plans, problems = _resolve([doc], root, manifest=manifest)
    assert not problems
    meta = plans[doc.path].metadata
    assert meta is not None and meta.title == "Газета"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("path,colour\n", "row 1, column 2: unknown field 'colour'"),
        ("title,fond\n", "row 1: no 'path' column"),
        ("", "the manifest is empty"),
        ("path,fond,fond\n", "a column name appears twice"),
    ],
)
def test_unusable_manifest_stops_the_batch(tmp_path: Path, text: str, message: str) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(text, "utf-8")
    with pytest.raises(MetadataError, match=message):
        read_manifest(manifest)


def test_manifest_not_utf8_is_named(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_bytes("path,title\nа,Справа\n".encode("cp1251"))
    with pytest.raises(MetadataError, match="not UTF-8"):
        read_manifest(manifest)


def test_set_needs_key_equals_value() -> None:
    assert parse_sets(["title=A=B"]) == (("title", "A=B"),)
    with pytest.raises(UsageError, match="expected key=value"):
        parse_sets(["title"])
    with pytest.raises(UsageError, match="unknown key 'titel'"):
        parse_sets(["titel=x"])


def test_required_fields(tmp_path: Path) -> None:
    doc = _folder_doc(tmp_path / "s", ["1.png"])
    (doc.path / "arkhiv.yaml").write_text("fond: 1\n", "utf-8")
    plans, _ = resolve([doc], [tmp_path], MetadataRequest(), required=("fond", "opys", "title"))
    assert plans[doc.path].errors == (
        "missing required field(s) opys, title (set them in an arkhiv.yaml, the manifest, "
        "the layout or with --set)",
    )


def test_leaves_recto_verso_and_declared_count(tmp_path: Path) -> None:
    doc = _folder_doc(tmp_path / "s", [f"{i}.png" for i in range(1, 6)])
    plan = _resolve([doc], tmp_path, sides="recto-verso")[0][doc.path]
    assert [str(leaf) for leaf in plan.leaves] == ["1", "1 зв.", "2", "2 зв.", "3"]
    (doc.path / "arkhiv.yaml").write_text("leaves: 4\nsides: recto-verso\n", "utf-8")
    plan = _resolve([doc], tmp_path)[0][doc.path]
    assert not plan.ok
    assert plan.errors == (
        f"{doc.path / 'arkhiv.yaml'}: declared 4 leaves, but no scan of leaves 4 "
        "(the scans cover 1-3)",
    )
    plan = _resolve([doc], tmp_path, sets=(("leaves", "2"),), sides="recto-verso")[0][doc.path]
    assert plan.errors == ("--set: declared 2 leaves, but the scans include leaves 3",)


def test_leaves_from_file_names_gaps_and_duplicates(tmp_path: Path) -> None:
    doc = _folder_doc(tmp_path / "s", ["0001.tif", "0001zv.tif", "0002.tif", "0005.tif"])
    plan = _resolve([doc], tmp_path, sides="filenames")[0][doc.path]
    assert plan.ok
    assert plan.leaves == (Leaf(1), Leaf(1, True), Leaf(2), Leaf(5))
    assert plan.warnings == ("no scan of leaves 3-4 (a gap in the numbering)",)
    dup = _folder_doc(tmp_path / "d", ["0001.tif", "1.tif"])
    plan = _resolve([dup], tmp_path, sides="filenames")[0][dup.path]
    assert plan.errors == ("арк. 1 appears twice: 0001.tif and 1.tif",)
    odd = _folder_doc(tmp_path / "o", ["0001.tif", "scan.tif"])
    plan = _resolve([odd], tmp_path, sides="filenames")[0][odd.path]
    assert "scan.tif: the file name does not give a leaf number" in plan.errors[0]


def test_first_leaf_and_a_multipage_file_in_filenames_mode(tmp_path: Path) -> None:
    doc = _pdf_doc(tmp_path / "a.pdf", 3)
    plan = _resolve([doc], tmp_path, sets=(("first_leaf", "10"),))[0][doc.path]
    assert plan.leaves == (Leaf(10), Leaf(11), Leaf(12))
    plan = _resolve([doc], tmp_path, sides="filenames")[0][doc.path]
    assert "not a multi-page file" in plan.errors[0]


def test_access_words_in_ukrainian(tmp_path: Path) -> None:
    doc = _folder_doc(tmp_path / "s", ["1.png"])
    (doc.path / "arkhiv.yaml").write_text("access: обмежений\n", "utf-8")
    meta = _resolve([doc], tmp_path)[0][doc.path].metadata
    assert meta is not None and meta.access is Access.RESTRICTED and meta.sides is Sides.RECTO


def test_samples_metadata_resolves(tmp_path: Path) -> None:
    """The repository's samples carry sidecars and a manifest: all of it must be valid."""
    from tests.conftest import SAMPLES

    docs, _ = discover(SAMPLES)
    plans, problems = resolve(docs, [SAMPLES], MetadataRequest(manifest=SAMPLES / "manifest.csv"))
    assert not problems
    cites = sorted(p.metadata.citation() for p in plans.values() if p.metadata)
    assert cites == [
        "ДАЗО, ф. Р-123, оп. 4, спр. 56",
        "ДАЗО, ф. Р-310, оп. 2, спр. 15а",
        "ДАКО, ф. Р-200, оп. 1, спр. 7",
    ]
    assert all(p.ok for p in plans.values())


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    """Issue 15, item 12: 334 bytes of nested aliases took 33 s and 3.2 GB, then MemoryError."""
    import time

    levels = ["a: &a [" + ", ".join(['"lol"'] * 9) + "]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    root = tmp_path / "b"
    doc = _folder_doc(root / "s", ["1.png"])
    (doc.path / "arkhiv.yaml").write_text("\n".join(levels) + "\n", "utf-8")
    start = time.monotonic()
    plan = _resolve([doc], root)[0][doc.path]
    assert time.monotonic() - start < 2.0
    assert not plan.ok
    assert "line 2: not valid YAML: aliases (*name) are not accepted in a sidecar" in plan.errors[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('path,title\ndoc1,"unterminated quote\ndoc2,ok\n', "row 3: not valid CSV (unexpected"),
        ("path,title\ndoc1," + "я" * 140_000 + "\n", "row 2: not valid CSV (field larger"),
    ],
)
def test_a_manifest_that_is_not_valid_csv_is_refused_with_the_row(
    tmp_path: Path, text: str, message: str
) -> None:
    """Issue 15, item 13: an unterminated quote merged two rows silently (exit 0); a field over
    131,072 characters was an internal error."""
    manifest = tmp_path / "опис.csv"
    manifest.write_text(text, encoding="utf-8")
    with pytest.raises(MetadataError) as info:
        read_manifest(manifest)
    assert info.value.message.startswith(f"{manifest}: {message}")


def test_a_manifest_that_is_a_pipe_is_refused_not_read(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "опис.csv"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="the manifest is not a regular file"):
        read_manifest(fifo)


def test_manifest_headers_are_read_whatever_their_case(tmp_path: Path) -> None:
    """Issue 15, item 21: `Path` (as Excel users write it) was an unknown field."""
    manifest = tmp_path / "опис.csv"
    manifest.write_text("Path,Title\nсправа 1,Накази\n", encoding="utf-8")
    ((number, path, layer),) = read_manifest(manifest)
    assert (number, path) == (2, "справа 1") and not isinstance(layer, str)
