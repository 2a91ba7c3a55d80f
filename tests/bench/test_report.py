"""`make bench` rewrites only its own part of BENCHMARKS.md: the hand-written sections below the
marker (figures from the other benchmarks, before/after notes) survive a new run."""

from __future__ import annotations

from pathlib import Path

from bench.report import END_MARKER, write


def test_a_new_run_keeps_the_hand_written_part(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    write(path, "# first run\n")
    text = path.read_text()
    assert text.startswith("# first run\n") and END_MARKER in text
    path.write_text(text + "\n## Notes by hand\n\nkept\n")
    write(path, "# second run\n")
    text = path.read_text()
    assert text.startswith("# second run\n") and "# first run" not in text
    assert text.endswith(END_MARKER + "\n\n## Notes by hand\n\nkept\n")


def test_a_file_without_the_marker_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# an old generated file\n")
    write(path, "# new\n")
    assert path.read_text() == "# new\n\n" + END_MARKER + "\n"
