"""Leaves (аркуші): the leaf and side each page image shows; checks of a справа's leaf count."""

from __future__ import annotations

from collections.abc import Sequence

from arkhiv.metadata.fields import Sides
from arkhiv.metadata.ref import Leaf, leaf_from_filename
from arkhiv.models import SourcePage


def assign_leaves(pages: Sequence[SourcePage], sides: Sides, first_leaf: int = 1) -> list[Leaf]:
    """The leaf of each page, in page order; ValueError when file names do not say it."""
    if sides is Sides.RECTO:
        return [Leaf(first_leaf + i) for i in range(len(pages))]
    if sides is Sides.RECTO_VERSO:
        return [Leaf(first_leaf + i // 2, verso=i % 2 == 1) for i in range(len(pages))]
    leaves = []
    for page in pages:
        if page.frame is not None:
            raise ValueError(
                f'{page.path.name}: sides "filenames" needs one image file per page side, '
                "not a multi-page file; use recto or recto-verso for it"
            )
        leaf = leaf_from_filename(page.path.stem)
        if leaf is None:
            raise ValueError(
                f"{page.path.name}: the file name does not give a leaf number "
                "(expected e.g. 0007.tif, 0007zv.tif for арк. 7 зв.)"
            )
        leaves.append(leaf)
    return leaves


def _ranges(numbers: Sequence[int]) -> str:
    """1, 2, 3, 7 -> "1-3, 7"."""
    out: list[str] = []
    for n in sorted(numbers):
        if out and out[-1].split("-")[-1] == str(n - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def check_leaves(
    pages: Sequence[SourcePage], leaves: Sequence[Leaf], declared: int | None
) -> tuple[list[str], list[str]]:
    """(errors, warnings) about the leaves: duplicates, and gaps or a count that disagrees with
    the declared number of leaves. Gaps without a declared count are only a warning: a leaf
    may be missing in the original itself."""
    errors: list[str] = []
    warnings: list[str] = []
    seen: dict[Leaf, SourcePage] = {}
    for page, leaf in zip(pages, leaves, strict=True):
        if leaf in seen:
            first = seen[leaf]
            errors.append(
                f"арк. {leaf} appears twice: {first.path.name} and {page.path.name}"
                if first.path != page.path
                else f"арк. {leaf} appears twice in {page.path.name}"
            )
        seen[leaf] = page
    numbers = sorted({leaf.number for leaf in leaves})
    if declared is not None:
        beyond = [n for n in numbers if n > declared]
        missing = [n for n in range(1, declared + 1) if n not in set(numbers)]
        if beyond:
            errors.append(
                f"declared {declared} leaves, but the scans include leaves {_ranges(beyond)}"
            )
        if missing:
            errors.append(
                f"declared {declared} leaves, but no scan of leaves {_ranges(missing)} "
                f"(the scans cover {_ranges(numbers) or 'none'})"
            )
    elif numbers:
        gaps = [n for n in range(numbers[0], numbers[-1] + 1) if n not in set(numbers)]
        if gaps:
            warnings.append(f"no scan of leaves {_ranges(gaps)} (a gap in the numbering)")
    return errors, warnings
