"""The instructor guide's schedules (issue 25 item 4, issue 23 item 5): built from the minutes
the lessons state, every format inside its slot and reaching its topic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qdr_course import schedule
from qdr_course.lesson_source import LessonSummary, lesson_summary

ROOT = Path(__file__).resolve().parent.parent
STATED = [lesson_summary(path) for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.py"))]
#: What careful learners need (issue 25 item 4; 03 at the middle of 60-70): the lessons will
#: state about this, so every format must work with these minutes too.
CAREFUL = {"00": 15, "01": 75, "02": 75, "03": 65, "04": 95, "05": 115, "06": 95, "07": 115,
           "08": 100, "09": 45}


def careful_lessons() -> list[LessonSummary]:
    """The course's lessons with CAREFUL minutes (60 % teaching)."""
    return [LessonSummary(lesson.number, lesson.title, round(CAREFUL[lesson.number] * 0.6),
                          CAREFUL[lesson.number] - round(CAREFUL[lesson.number] * 0.6), [])
            for lesson in STATED]


SETS = {"stated": STATED, "careful": careful_lessons()}


def pauses_and_stretches(table: schedule.Timetable) -> list[int]:
    """The minutes taught between consecutive pauses (and before the first, after the last)."""
    stretches, current = [], 0
    times = [at for at, _ in table.rows] + [table.length]
    for (at, what), end in zip(table.rows, times[1:]):
        if what.startswith(("break", "lunch")):
            stretches.append(current)
            current = 0
        else:
            current += end - at
    return stretches + [current]


@pytest.mark.parametrize("minutes", SETS)
@pytest.mark.parametrize("track", schedule.HALF_DAYS, ids=lambda track: track.name)
def test_each_half_day_fits_its_slot_reaches_its_topic_and_teaches_the_stated_minutes(
        minutes, track):
    lessons = {lesson.number: lesson for lesson in SETS[minutes]}
    taught, dropped, table = schedule.fit_half_day(track, lessons)
    assert table.length <= track.slot
    assert set(track.required) <= {lesson.number for lesson in taught}
    assert table.taught == sum(lesson.minutes for lesson in taught)  # the stated minutes
    assert {lesson.number for lesson in taught + dropped} == set(track.lessons)
    assert max(pauses_and_stretches(table)) <= schedule.BREAK_EVERY + schedule.MIN_PART
    text = "\n".join(schedule.half_day_markdown(track, lessons))
    said = re.search(r"this timetable runs (\d+) h (\d\d) min", text)
    ends = re.search(r"end \((\d+) h (\d\d) min with breaks\)", text)
    assert said.groups() == ends.groups()  # the header and the table agree
    assert int(said[1]) * 60 + int(said[2]) == table.length


@pytest.mark.parametrize("minutes", SETS)
def test_the_course_plan_holds_every_lesson_in_the_fewest_days(minutes):
    lessons = SETS[minutes]
    days, tables = schedule.course_plan(lessons)
    fewer = len(days) - 1  # no plan with a day less fits
    assert fewer < 2 or all(max(t.length for t in split) > schedule.DAY_LENGTH for split in (
        [schedule.fitting_timetable(day, True, schedule.DAY_LENGTH) for day in cut]
        for cut in _contiguous_splits(
            [lesson for lesson in lessons if lesson.number not in schedule.BEFORE], fewer)))
    assert [lesson.number for day in days for lesson in day] == \
        [lesson.number for lesson in lessons if lesson.number not in schedule.BEFORE]
    for table in tables:
        assert table.length <= schedule.DAY_LENGTH
        assert sum(what.startswith("lunch") for _, what in table.rows) == 1
        assert max(pauses_and_stretches(table)) <= schedule.BREAK_EVERY + schedule.MIN_PART
    assert sum(table.taught for table in tables) == sum(
        lesson.minutes for lesson in lessons if lesson.number not in schedule.BEFORE)


def test_a_lesson_is_cut_by_a_break_only_into_parts_of_at_least_min_part():
    lessons = [LessonSummary("01", "A", 70, 40, []), LessonSummary("02", "B", 50, 45, []),
               LessonSummary("03", "C", 5, 3, [])]
    table = schedule.timetable(lessons, full_day=False)
    times = [at for at, _ in table.rows] + [table.length]
    parts = [end - at for (at, what), end in zip(table.rows, times[1:])
             if not what.startswith(("break", "lunch"))]
    assert sum(parts) == table.taught == 213
    assert all(part >= schedule.MIN_PART for part in parts[:-1])  # 03 is itself 8 min long
    assert [what for _, what in table.rows][:3] == ["01 A (70 + 40 min)", "break (15 min)",
                                                    "01 A, continued"]


def test_a_half_day_whose_required_lessons_cannot_fit_says_so():
    long = {n: LessonSummary(n, n, 150, 50, []) for n in ("06", "07", "08")}
    with pytest.raises(ValueError, match="required lessons 06, 08 need .* more than its 4 h"):
        schedule.fit_half_day(schedule.HALF_DAYS[1], long)


def test_the_guide_holds_the_schedule_of_the_stated_minutes():
    guide = (ROOT / "docs" / "instructor-guide.md").read_text()
    assert schedule.schedule_markdown(STATED) in guide


def test_breaks_fall_between_lessons_unless_that_does_not_fit():
    lessons = [LessonSummary("01", "A", 40, 20, []), LessonSummary("02", "B", 40, 20, [])]
    rows = [what for _, what in schedule.timetable(lessons, full_day=False).rows]
    assert rows == ["01 A (40 + 20 min)", "break (15 min)", "02 B (40 + 20 min)"]
    compact = [what for _, what in schedule.timetable(lessons, False, compact=True).rows]
    assert compact == ["01 A (40 + 20 min)", "02 B (40 + 20 min)", "break (15 min)",
                       "02 B, continued"]
    assert schedule.fitting_timetable(lessons, False, 135).length == 135  # between lessons
    assert schedule.fitting_timetable(lessons, False, 134).rows[2][1] == "break (15 min)"


def test_a_half_day_that_cannot_fit_is_said_in_the_guide_not_a_traceback():
    long = [LessonSummary(n, n, 150, 50, []) for n in ("00", "06", "07", "08")]
    text = schedule.schedule_markdown(long)
    assert "**Half day, NTK track** does not fit: Half day, NTK track: its required lessons" in text


def _contiguous_splits(order, n_days):
    """Every way to cut ``order`` into ``n_days`` non-empty runs, in order."""
    from itertools import combinations

    for cuts in combinations(range(1, len(order)), n_days - 1):
        bounds = (0, *cuts, len(order))
        yield [order[a:b] for a, b in zip(bounds, bounds[1:])]
