"""Inbox watching: the file-stability tracker (fake clocks, no sleeping), the scan, readiness."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from arkhiv.watch.stability import Drop, Signature, StabilityTracker, is_ready, scan_inbox

QUIET = 30.0
NS = 1_000_000_000
WALL_START = 1_700_000_000.0  # epoch seconds, a whole number so mtimes in ns are exact
MONO_START = 500.0  # monotonic seconds, deliberately unrelated to the wall clock


class FakeTime:
    """Settable time: `monotonic` is the tracker's `clock`, `time` its `wall` (epoch seconds)."""

    def __init__(self, mono: float = MONO_START, wall: float = WALL_START) -> None:
        self.mono = mono
        self.wall = wall

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def advance(self, seconds: float) -> None:
        """Let time pass on both clocks."""
        self.mono += seconds
        self.wall += seconds

    def mtime_ns(self, age: float = 0.0) -> int:
        """A modification time `age` seconds before the wall clock's now, in ns."""
        return round((self.wall - age) * NS)


@pytest.fixture
def t() -> FakeTime:
    return FakeTime()


@pytest.fixture
def tracker(t: FakeTime) -> StabilityTracker:
    return StabilityTracker(QUIET, clock=t.monotonic, wall=t.time)


def _sig(t: FakeTime, size: int = 100, age: float = 0.0) -> Signature:
    return size, t.mtime_ns(age)


def _put(path: Path, t: FakeTime, age: float = 0.0, data: bytes = b"scan") -> Path:
    """A real file with its mtime set `age` seconds before the fake wall clock's now."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    ns = t.mtime_ns(age)
    os.utime(path, ns=(ns, ns))
    return path


def _observe_all(tracker: StabilityTracker, drops: list[Drop]) -> None:
    """One scan of the whole inbox, as the watch loop does it."""
    tracker.observe({p: sig for d in drops for p, sig in d.files.items()})


def _by_name(drops: list[Drop]) -> dict[str, Drop]:
    return {d.path.name: d for d in drops}


# --- StabilityTracker -------------------------------------------------------------------------

A = Path("inbox/a.tif")
B = Path("inbox/b.tif")


def test_file_present_at_startup_with_an_old_mtime_is_stable_at_once(
    t: FakeTime, tracker: StabilityTracker
) -> None:
    tracker.observe({A: _sig(t, age=3600)})
    assert tracker.is_stable(A)
    assert tracker.all_stable([A])


@pytest.mark.parametrize(("age", "stable_at_once"), [(QUIET, True), (QUIET - 1, False)])
def test_first_sighting_counts_the_age_of_the_mtime(
    t: FakeTime, tracker: StabilityTracker, age: float, stable_at_once: bool
) -> None:
    tracker.observe({A: _sig(t, age=age)})
    assert tracker.is_stable(A) is stable_at_once
    t.mono += 1  # only the rest of the quiet period is left to wait
    assert tracker.is_stable(A)


def test_fresh_file_waits_quiet_seconds_on_the_monotonic_clock(
    t: FakeTime, tracker: StabilityTracker
) -> None:
    sig = _sig(t, age=0)
    tracker.observe({A: sig})
    assert not tracker.is_stable(A)
    t.wall += 10 * QUIET  # a wall-clock jump (NTP, DST) does not make it older
    assert not tracker.is_stable(A)
    t.mono += QUIET - 0.5
    assert not tracker.is_stable(A)
    t.mono += 0.5
    tracker.observe({A: sig})  # seen again unchanged
    assert tracker.is_stable(A)


def test_mtime_in_the_future_counts_as_fresh(t: FakeTime, tracker: StabilityTracker) -> None:
    """A file server whose clock runs ahead: the file must still wait a full quiet period."""
    tracker.observe({A: _sig(t, age=-3600)})
    assert not tracker.is_stable(A)
    t.advance(QUIET)
    assert tracker.is_stable(A)


def test_growing_file_is_stable_only_quiet_seconds_after_its_last_change(
    t: FakeTime, tracker: StabilityTracker
) -> None:
    size = 0
    for _ in range(10):  # a scanner writing: a new size and mtime at every scan
        size += 4096
        tracker.observe({A: (size, t.mtime_ns())})
        assert not tracker.is_stable(A)
        t.advance(QUIET / 2)
    last = (size, t.mtime_ns(QUIET / 2))  # the last write, half a quiet period ago
    tracker.observe({A: last})
    assert not tracker.is_stable(A)
    t.advance(QUIET / 2 - 0.1)
    tracker.observe({A: last})
    assert not tracker.is_stable(A)
    t.advance(0.1)
    tracker.observe({A: last})
    assert tracker.is_stable(A)


def test_a_change_of_mtime_alone_restarts_the_wait(t: FakeTime, tracker: StabilityTracker) -> None:
    old = _sig(t, size=100, age=3600)
    tracker.observe({A: old})
    assert tracker.is_stable(A)
    # rewritten in place with the same size (or its mtime reset to an older one by a copy tool)
    tracker.observe({A: (100, old[1] - NS)})
    assert not tracker.is_stable(A)
    t.advance(QUIET)
    assert tracker.is_stable(A)


def test_unchanged_signature_keeps_its_progress(t: FakeTime, tracker: StabilityTracker) -> None:
    sig = _sig(t)
    for _ in range(3):
        tracker.observe({A: sig})
        t.advance(QUIET / 3)
    tracker.observe({A: sig})
    assert tracker.is_stable(A)


def test_vanished_file_is_forgotten_and_starts_over_when_it_returns(
    t: FakeTime, tracker: StabilityTracker
) -> None:
    tracker.observe({A: _sig(t), B: _sig(t, age=3600)})
    t.advance(QUIET)
    assert tracker.is_stable(A)
    tracker.observe({B: _sig(t, age=3600 + QUIET)})  # A is gone
    assert not tracker.is_stable(A)
    assert tracker.is_stable(B)
    # back with a fresh mtime: it waits a whole quiet period again
    tracker.observe({A: _sig(t), B: _sig(t, age=3600 + QUIET)})
    assert not tracker.is_stable(A)
    t.advance(QUIET)
    assert tracker.is_stable(A)
    # gone again, then back with an old mtime (moved back in): after the first scan an old
    # mtime proves nothing (copies keep it), so it waits the quiet period too
    tracker.observe({})
    assert not tracker.is_stable(A)
    assert not tracker.is_stable(B)
    tracker.observe({A: _sig(t, age=3600)})
    assert not tracker.is_stable(A)
    t.advance(QUIET)
    tracker.observe({A: _sig(t, age=3600 + QUIET)})
    assert tracker.is_stable(A)


def test_all_stable(t: FakeTime, tracker: StabilityTracker) -> None:
    assert not tracker.all_stable([])
    assert not tracker.all_stable(iter(()))
    tracker.observe({A: _sig(t, age=3600), B: _sig(t)})
    assert not tracker.all_stable([])
    assert tracker.all_stable([A])
    assert not tracker.all_stable([A, B])
    assert not tracker.all_stable([A, Path("inbox/never-seen.tif")])
    assert tracker.all_stable(p for p in [A])  # any iterable, consumed once
    t.advance(QUIET)
    assert tracker.all_stable([A, B])
    assert tracker.all_stable({A: _sig(t), B: _sig(t)})  # a Drop's files mapping


def test_forget(t: FakeTime, tracker: StabilityTracker) -> None:
    tracker.observe({A: _sig(t, age=3600), B: _sig(t, age=3600)})
    tracker.forget([A, Path("inbox/never-seen.tif")])  # unknown paths are fine
    assert not tracker.is_stable(A)
    assert tracker.is_stable(B)
    tracker.forget(iter([B]))
    assert not tracker.all_stable([B])


# --- scan_inbox -------------------------------------------------------------------------------


def test_missing_inbox_gives_no_drops(tmp_path: Path) -> None:
    assert scan_inbox(tmp_path / "no-such-inbox", skip=[], marker=None) == []


def test_empty_inbox_gives_no_drops(tmp_path: Path) -> None:
    assert scan_inbox(tmp_path, skip=[], marker="READY") == []


def test_top_level_file_is_a_drop_of_one_file(tmp_path: Path, t: FakeTime) -> None:
    f = _put(tmp_path / "scan.pdf", t, age=7, data=b"%PDF-1.7 ...")
    (drop,) = scan_inbox(tmp_path, skip=[], marker="READY")
    assert drop.path == f
    assert drop.files == {f: (12, t.mtime_ns(7))}
    assert drop.pending is False
    assert drop.has_marker is False


def test_top_level_folder_is_one_drop_with_every_file_of_its_tree(
    tmp_path: Path, t: FakeTime
) -> None:
    inbox = tmp_path
    files = [
        _put(inbox / "b" / "1.tif", t),
        _put(inbox / "b" / "2.tif", t, age=5, data=b"longer scan"),
        _put(inbox / "b" / "opys 1" / "3.tif", t),
        _put(inbox / "b" / "opys 1" / "deeper" / "4.tif", t),
        _put(inbox / "b" / "opys 2" / "5.pdf", t),
    ]
    _put(inbox / "c.tif", t)
    (inbox / "a").mkdir()  # an empty folder is a drop too (with no files)
    drops = scan_inbox(inbox, skip=[], marker=None)
    assert [d.path.name for d in drops] == ["a", "b", "c.tif"]  # name order
    a, b, c = drops
    assert a.files == {}
    assert set(b.files) == set(files)
    assert b.files[inbox / "b" / "2.tif"] == (11, t.mtime_ns(5))
    assert not b.pending
    assert not b.has_marker
    assert set(c.files) == {inbox / "c.tif"}


@pytest.mark.parametrize("temp", ["1.tif.part", "1.tif.filepart", "~$1.tif", "1.tif.crdownload"])
def test_folder_with_a_temporary_file_is_pending(tmp_path: Path, t: FakeTime, temp: str) -> None:
    done = _put(tmp_path / "справа" / "1.tif", t, age=3600)
    _put(tmp_path / "справа" / "sub" / temp, t)
    (drop,) = scan_inbox(tmp_path, skip=[], marker=None)
    assert drop.pending
    assert drop.files == {done: (4, t.mtime_ns(3600))}  # the temporary file is not one


def test_dot_files_are_excluded_but_do_not_make_a_folder_pending(
    tmp_path: Path, t: FakeTime
) -> None:
    done = _put(tmp_path / "справа" / "1.tif", t)
    for name in (".DS_Store", "._1.tif", ".~lock.opys.odt#", ".hidden.tif"):
        _put(tmp_path / "справа" / name, t)
    (drop,) = scan_inbox(tmp_path, skip=[], marker=None)
    assert not drop.pending
    assert set(drop.files) == {done}


def test_temporary_names_at_the_top_level_are_not_drops(tmp_path: Path, t: FakeTime) -> None:
    for name in ("x.part", "x.filepart", "~$x.docx", ".DS_Store"):
        _put(tmp_path / name, t)
    for name in ("folder.part", ".Trash-1000", "~$folder"):
        _put(tmp_path / name / "1.tif", t)
    _put(tmp_path / "real.tif", t)
    assert [d.path.name for d in scan_inbox(tmp_path, skip=[], marker=None)] == ["real.tif"]


def test_marker_file_sets_has_marker_and_is_not_one_of_the_files(
    tmp_path: Path, t: FakeTime
) -> None:
    scan = _put(tmp_path / "справа" / "1.tif", t)
    _put(tmp_path / "справа" / "READY", t, data=b"")
    (drop,) = scan_inbox(tmp_path, skip=[], marker="READY")
    assert drop.has_marker
    assert set(drop.files) == {scan}
    # without a marker configured the same name is an ordinary file of the drop
    (plain,) = scan_inbox(tmp_path, skip=[], marker=None)
    assert not plain.has_marker
    assert set(plain.files) == {scan, tmp_path / "справа" / "READY"}
    (empty,) = scan_inbox(tmp_path, skip=[], marker="")  # the settings' default: no marker
    assert not empty.has_marker


def test_marker_is_matched_exactly(tmp_path: Path, t: FakeTime) -> None:
    _put(tmp_path / "справа" / "1.tif", t)
    _put(tmp_path / "справа" / "READY.txt", t)
    _put(tmp_path / "справа" / "ready", t)
    (drop,) = scan_inbox(tmp_path, skip=[], marker="READY")
    assert not drop.has_marker


def test_a_dot_named_marker_is_still_recognised(tmp_path: Path, t: FakeTime) -> None:
    _put(tmp_path / "справа" / "1.tif", t)
    _put(tmp_path / "справа" / ".ready", t)
    (drop,) = scan_inbox(tmp_path, skip=[], marker=".ready")
    assert drop.has_marker
    assert not drop.pending


def test_skipped_folders_and_arkhiv_names_are_not_drops(tmp_path: Path, t: FakeTime) -> None:
    inbox = tmp_path / "inbox"
    _put(inbox / "processed" / "old" / "1.tif", t)
    _put(inbox / "failed" / "bad.pdf", t)
    _put(inbox / ".arkhiv-state.json", t)
    _put(inbox / ".arkhiv" / "journal", t)
    _put(inbox / "new" / "1.tif", t)
    drops = scan_inbox(inbox, skip=[inbox / "processed", inbox / "failed"], marker=None)
    assert [d.path.name for d in drops] == ["new"]


def test_skip_paths_are_compared_after_resolving(tmp_path: Path, t: FakeTime) -> None:
    real = tmp_path / "real-inbox"
    _put(real / "processed" / "1.tif", t)
    _put(real / "new.tif", t)
    link = tmp_path / "inbox-link"
    link.symlink_to(real, target_is_directory=True)
    # the inbox is reached through a symlink, skip is given relative to the real folder
    drops = scan_inbox(link, skip=[real / "sub" / ".." / "processed"], marker=None)
    assert [d.path.name for d in drops] == ["new.tif"]


def test_symlinked_folder_inside_a_drop_is_not_followed(tmp_path: Path, t: FakeTime) -> None:
    inbox = tmp_path / "inbox"
    drop_dir = inbox / "справа"
    scan = _put(drop_dir / "1.tif", t)
    (drop_dir / "loop").symlink_to(drop_dir, target_is_directory=True)  # would recurse forever
    _put(tmp_path / "elsewhere" / "secret.tif", t)
    (drop_dir / "outside").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (drop,) = scan_inbox(inbox, skip=[], marker=None)
    assert set(drop.files) == {scan}


def test_symlinked_folder_at_the_top_level_is_not_a_drop(tmp_path: Path, t: FakeTime) -> None:
    inbox = tmp_path / "inbox"
    _put(tmp_path / "elsewhere" / "1.tif", t)
    inbox.mkdir()
    (inbox / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert scan_inbox(inbox, skip=[], marker=None) == []


def test_cyrillic_and_space_names(tmp_path: Path, t: FakeTime) -> None:
    inbox = tmp_path / "вхідні скани"
    pages = [
        _put(inbox / "справа 56" / "арк 1.tif", t, age=3600),
        _put(inbox / "справа 56" / "арк 2.tif", t, age=3600),
        _put(inbox / "справа 56" / "опис №4" / "арк 10.tif", t, age=3600),
    ]
    _put(inbox / "справа 56" / "ГОТОВО", t, age=3600)
    _put(inbox / "наказ від 1946 р.pdf", t, age=3600)
    drops = _by_name(scan_inbox(inbox, skip=[], marker="ГОТОВО"))
    assert set(drops) == {"справа 56", "наказ від 1946 р.pdf"}
    sprava = drops["справа 56"]
    assert set(sprava.files) == set(pages)
    assert sprava.has_marker
    tracker = StabilityTracker(QUIET, clock=t.monotonic, wall=t.time)
    _observe_all(tracker, list(drops.values()))
    assert is_ready(sprava, tracker, "ГОТОВО")
    assert is_ready(drops["наказ від 1946 р.pdf"], tracker, "ГОТОВО")


# --- is_ready ---------------------------------------------------------------------------------


def test_pending_folder_is_not_ready_even_when_its_files_are_stable(
    tmp_path: Path, t: FakeTime, tracker: StabilityTracker
) -> None:
    _put(tmp_path / "справа" / "1.tif", t, age=3600)
    _put(tmp_path / "справа" / "2.tif.part", t, age=3600)
    _put(tmp_path / "справа" / "READY", t, age=3600)
    (drop,) = scan_inbox(tmp_path, skip=[], marker="READY")
    _observe_all(tracker, [drop])
    assert tracker.all_stable(drop.files)
    assert not is_ready(drop, tracker, "READY")
    assert not is_ready(drop, tracker, None)


def test_folder_waits_for_the_marker_and_for_stable_files(
    tmp_path: Path, t: FakeTime, tracker: StabilityTracker
) -> None:
    _put(tmp_path / "справа" / "1.tif", t, age=3600)
    (drop,) = scan_inbox(tmp_path, skip=[], marker="READY")
    _observe_all(tracker, [drop])
    assert tracker.all_stable(drop.files)
    assert not is_ready(drop, tracker, "READY")  # stable, but no marker yet
    t.advance(QUIET * 10)
    assert not is_ready(drop, tracker, "READY")

    _put(tmp_path / "справа" / "2.tif", t)  # one more page, then the marker
    _put(tmp_path / "справа" / "READY", t, data=b"")
    (drop,) = scan_inbox(tmp_path, skip=[], marker="READY")
    _observe_all(tracker, [drop])
    assert drop.has_marker
    assert not is_ready(drop, tracker, "READY")  # 2.tif is fresh
    t.advance(QUIET)
    assert is_ready(drop, tracker, "READY")


def test_folder_without_a_configured_marker_is_ready_once_stable(
    tmp_path: Path, t: FakeTime, tracker: StabilityTracker
) -> None:
    _put(tmp_path / "справа" / "1.tif", t)
    (drop,) = scan_inbox(tmp_path, skip=[], marker=None)
    _observe_all(tracker, [drop])
    assert not is_ready(drop, tracker, None)
    t.advance(QUIET)
    assert is_ready(drop, tracker, None)
    assert is_ready(drop, tracker, "")


def test_single_file_drop_does_not_need_the_marker(
    tmp_path: Path, t: FakeTime, tracker: StabilityTracker
) -> None:
    _put(tmp_path / "scan.pdf", t)
    (drop,) = scan_inbox(tmp_path, skip=[], marker="READY")
    _observe_all(tracker, [drop])
    assert not is_ready(drop, tracker, "READY")
    t.advance(QUIET)
    assert is_ready(drop, tracker, "READY")


def test_folder_with_nothing_but_the_marker_is_never_ready(
    tmp_path: Path, t: FakeTime, tracker: StabilityTracker
) -> None:
    _put(tmp_path / "справа" / "READY", t, age=3600)
    _put(tmp_path / "empty" / ".DS_Store", t, age=3600)
    drops = scan_inbox(tmp_path, skip=[], marker="READY")
    _observe_all(tracker, drops)
    t.advance(QUIET * 10)
    assert [d.files for d in drops] == [{}, {}]
    assert not any(is_ready(d, tracker, "READY") for d in drops)
    assert not any(is_ready(d, tracker, None) for d in drops)


def test_a_copy_in_progress_becomes_ready_quiet_seconds_after_it_ends(
    tmp_path: Path, t: FakeTime, tracker: StabilityTracker
) -> None:
    """The whole loop: scan, observe, ask; a partial file, then the rename, then the wait."""
    folder = tmp_path / "справа 56"
    _put(folder / "арк 1.tif", t)
    _put(folder / "арк 2.tif.part", t, data=b"sc")

    def step() -> Drop:
        (drop,) = scan_inbox(tmp_path, skip=[], marker=None)
        _observe_all(tracker, [drop])
        return drop

    assert not is_ready(step(), tracker, None)
    t.advance(QUIET)
    drop = step()
    assert drop.pending
    assert not is_ready(drop, tracker, None)  # 1 is stable, but 2 is still being copied
    (folder / "арк 2.tif.part").write_bytes(b"scan")
    (folder / "арк 2.tif.part").rename(folder / "арк 2.tif")
    ns = t.mtime_ns()
    os.utime(folder / "арк 2.tif", ns=(ns, ns))
    drop = step()
    assert not drop.pending
    assert set(drop.files) == {folder / "арк 1.tif", folder / "арк 2.tif"}
    assert not is_ready(drop, tracker, None)
    t.advance(QUIET - 1)
    assert not is_ready(step(), tracker, None)
    t.advance(1)
    assert is_ready(step(), tracker, None)


def test_a_folder_still_receiving_files_with_preserved_mtimes_is_not_ready(
    tmp_path: Path, t: FakeTime, tracker: StabilityTracker
) -> None:
    _observe_all(tracker, scan_inbox(tmp_path, skip=[], marker=None))  # start-up: empty inbox
    t.advance(QUIET)
    # a copy of an old scanned case has begun: арк 1 is complete, its 1998 mtime preserved
    _put(tmp_path / "справа 56" / "арк 1.tif", t, age=25 * 365 * 86400)
    (drop,) = scan_inbox(tmp_path, skip=[], marker=None)
    _observe_all(tracker, [drop])
    assert not is_ready(drop, tracker, None)  # it only just appeared; арк 2..N are on the way


def test_rsync_temporary_dot_file_makes_a_folder_pending(tmp_path: Path, t: FakeTime) -> None:
    inbox = tmp_path / "inbox"
    _put(inbox / "справа" / "1.tif", t, age=3600)
    _put(inbox / "справа" / ".DS_Store", t, age=3600)
    (drop,) = scan_inbox(inbox, skip=[], marker=None)
    assert not drop.pending
    _put(inbox / "справа" / ".2.tif.Xy12Ab", t)  # rsync writes here, then renames
    (drop,) = scan_inbox(inbox, skip=[], marker=None)
    assert drop.pending


def test_files_in_dot_and_temporary_subfolders_are_not_part_of_a_drop(
    tmp_path: Path, t: FakeTime
) -> None:
    inbox = tmp_path / "inbox"
    page = _put(inbox / "справа" / "1.tif", t)
    _put(inbox / "справа" / ".thumbs" / "1.jpg", t)
    _put(inbox / "справа" / "~$tmp" / "x.tif", t)
    (drop,) = scan_inbox(inbox, skip=[], marker=None)
    assert list(drop.files) == [page]
