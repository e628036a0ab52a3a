"""A line's level is read from what it says of itself (tests/fixtures/log_levels: real lines in a dozen
formats), and only a line that says nothing takes one from its stream."""

from __future__ import annotations

from pathlib import Path

import pytest

from panda_tui.store.levels import Level, LevelReader, level_of

CORPUS = Path(__file__).parent.parent / "fixtures" / "log_levels"
FILES = sorted(CORPUS.glob("*.txt"))


def corpus(path: Path) -> list[tuple[Level, str, str]]:
    out = []
    for raw in path.read_text().splitlines():
        head, text = raw.split("\t", 1)
        level, stream = head.split()
        out.append((Level[level], stream, text))
    return out


def test_the_corpus_holds_at_least_eight_formats_with_every_level():
    assert len(FILES) >= 8
    seen = {level for path in FILES for level, _, _ in corpus(path)}
    assert seen == set(Level)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_line_of_a_real_log_gets_its_own_level(path):
    reader = LevelReader()
    got = [(reader.read(stream, text), text) for _, stream, text in corpus(path)]
    wrong = [f"{want.name} != {have.name}: {text}" for (want, _, text), (have, _) in zip(corpus(path), got)
             if want != have]
    assert not wrong, "\n".join(wrong)


def test_python_logging_on_stderr_is_not_all_errors():
    lines = [f"2026-12-02 03:00:{n % 60:02d},000 INFO app: step {n}" for n in range(1000)]
    reader = LevelReader()
    assert {reader.read("err", text) for text in lines} == {Level.INFO}


@pytest.mark.parametrize("stream, want", [("err", Level.ERROR), ("out", Level.NONE)])
def test_a_line_without_a_level_takes_its_streams(stream, want):
    assert level_of(stream, "copying 12 files") == want


@pytest.mark.parametrize("text, want", [("[panda] failed: exit 2", Level.ERROR),
                                        ("[panda] timed out after 5s; stopping (SIGTERM)", Level.ERROR),
                                        ("[panda] killed: killed on request", Level.WARNING),
                                        ("[panda] the log stream broke (EOF); later lines may be missing",
                                         Level.WARNING),
                                        ("[panda] run 4 re-attached", Level.INFO)])
def test_panda_tui_s_own_notes_say_how_bad_they_are(text, want):
    assert level_of("sys", text) == want


def test_a_stated_level_wins_over_words_in_the_message():
    assert level_of("out", 'time=x level=info msg="retrying after ERROR from upstream"') == Level.INFO
    assert level_of("err", "2026-12-02 03:00:00 INFO app: ERROR count is 0") == Level.INFO


def test_indented_lines_continue_a_warning_or_error_but_not_a_plain_line():
    reader = LevelReader()
    assert reader.read("out", "2026-12-02 ERROR app: bad rows:") == Level.ERROR
    assert reader.read("out", "    row 12: no id") == Level.ERROR
    assert reader.read("out", "done") == Level.NONE
    assert reader.read("out", "    row 13: fine") == Level.NONE


def test_a_traceback_on_stdout_is_an_error_to_its_last_line_and_no_further():
    reader = LevelReader()
    lines = ["Traceback (most recent call last):", '  File "a.py", line 1, in <module>', "    f()",
             "KeyError: 'x'", "next run in 5s"]
    assert [reader.read("out", t) for t in lines] == [Level.ERROR] * 4 + [Level.NONE]


def test_streams_keep_their_own_multi_line_state():
    reader = LevelReader()
    assert reader.read("err", "Traceback (most recent call last):") == Level.ERROR
    assert reader.read("out", "progress 50%") == Level.NONE
    assert reader.read("err", '  File "a.py", line 1, in <module>') == Level.ERROR
