"""The long-term mechanism as a flow: every working morning, the joint-review gates and the deliverables."""

from __future__ import annotations

from datetime import date

from prefect import flow

from duban import config
from tasks.mechanism import follow


@flow(name="follow-projects")
def follow_projects(as_of: date | None = None) -> dict[str, int]:
    """Pass gates whose signers all approved and open the next; remind signers and owners; escalate the late."""
    as_of = as_of or config.today()
    done = follow(as_of)
    return {
        "deliverables_made": done.made,
        "gates_passed": len(done.passed),
        "reminders": done.reminders,
        "escalations": len(done.ladder.raised),
        "resolved": len(done.ladder.resolved),
    }
