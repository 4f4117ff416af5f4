"""考核: each township's and lead department's score, every point traced to the event that caused it.

Rules are the plan's `assessment:` section (duban/plan.py AssessmentRules); none is in code. The API the
portal and the bulletins use:

- `assess(session, plan, period, as_of) -> Assessment`: `period` is "2022-10", "2022-Q4" or "2022";
  only what was known on `as_of` counts. `.units` is a list of `UnitScore` (unit, kind, score, rank,
  cards, lines), townships first then departments, each by rank; `.for_unit(name)` one of them
  (AssessmentError for a unit that is not assessed); `.as_json()` the shape of `duban assess --json`.
  A `Line` has key, unit, role (lead 主办 / co 协办), day, cause (glossary.ASSESSMENT_CAUSE), points
  (as counted: 0 when struck), charged (before any appeal), subject, link (a portal path), detail (the
  Chinese sentence), and its appeal (appeal_id, appeal_state, appeal_answer; `struck`).
  score = base + sum(line.points), within [floor, ceiling]; ranks shared by equal scores.
- `trend(session, plan, unit, year, as_of) -> [(month, score, rank)]`: month by month, for the months begun.
- `contest(session, plan, *, unit, key, reason, person, as_of)`: the line's own unit appeals (申诉).
- `decide_appeal(session, plan, *, appeal_id, uphold, reason, person, as_of)`: the Office decides.
- `appeals(session, unit=None, state=None)`: the appeals, newest first.
- `bulletin_rows(assessment)`: the rows of the bulletin's 考核 table (the year-end report passes a year).

Both raise AssessmentError (a Chinese message) for what cannot be done. The hot path reads the kept state
(`source="kept"`); `assess(..., source="logged")` replays the audit log instead, and the two agree.

The pages read closed months kept as data (duban/assessment/kept.py: `standings`, `unit_score`,
`trend`, kept by the daily sweep's `keep_closed`), equal to `assess` of the same period and day.
"""

from duban.assessment.appeals import appeals, contest, decide_appeal
from duban.assessment.periods import AssessmentError, parse_span
from duban.assessment.rows import bulletin_figures, bulletin_rows
from duban.assessment.score import Assessment, Card, Line, UnitScore, assess, trend

__all__ = [
    "Assessment",
    "AssessmentError",
    "Card",
    "Line",
    "UnitScore",
    "appeals",
    "assess",
    "bulletin_figures",
    "bulletin_rows",
    "contest",
    "decide_appeal",
    "parse_span",
    "trend",
]
