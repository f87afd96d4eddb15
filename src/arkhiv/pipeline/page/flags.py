"""Why a page's text may be incomplete: the reasons that put it on the review list.

A page is never passed off as fine on Tesseract's confidence alone: its completeness check
(`assess`) says how much of its ink no word covers. Thresholds chosen on the eval set's hard/
pages and confirmed on dev/ (docs/benchmarks.md).
"""

from __future__ import annotations

from arkhiv.pipeline.page.assess import Assessment

UNREAD_FLAG = 0.10  # more of the page's letters than this outside every word read
LOW_CONFIDENCE = 75.0  # a mean word confidence under this
SPLIT_FLAG = 0.10  # more lines than this read as one row split into blocks (order wrong)
INKED = 100  # letter marks from which a page is not blank


def review_reasons(a: Assessment) -> tuple[str, ...]:
    """The reasons, each a code and its measure, e.g. "text-missed: 38% of the ink unread";
    empty when the page's text is believed complete."""
    reasons = []
    if a.letters >= INKED and a.words == 0:
        reasons.append("no-text-on-inked-page")
    elif a.letters >= INKED and a.unread > UNREAD_FLAG:
        reasons.append(f"text-missed: {a.unread:.0%} of the ink unread")
    if a.words and a.confidence < LOW_CONFIDENCE:
        reasons.append(f"low-confidence: {a.confidence:.0f}")
    if a.split > SPLIT_FLAG:
        reasons.append(f"layout-split: {a.split:.0%} of the lines out of order")
    return tuple(reasons)
