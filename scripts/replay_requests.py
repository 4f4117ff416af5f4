"""The requests of the 2022 replay (scripts/replay_2022.py calls `RequestsReplay.act` on every working
day): extension requests, a reassignment and an appeal against an assessment line, each on a scripted
day, through duban's own functions.

- PT2022-0051 (河西镇, 健身设施, due 06-30): 河西镇 asks on 06-24 to move it to 07-31; 教体局 agrees, the
  Office refuses. The item is finished late and escalated.
- PT2022-0046 (河东镇, 养老服务站, due 07-31): 河东镇 asks on 07-25 for 10-15; 民政局 agrees to an
  earlier 09-30, the Office agrees. The item is closed in September, within the new date: never escalated.
- PT2022-0027 (南关街道, the stalled kindergarten, due 08-31): 南关街道 asks on 08-24 for 12-31, the date
  by which kindergartens must be finished; 教体局 agrees and it goes to the Office marked 报领导小组,
  which records the leadership group's consent on 08-31.
- PT2022-0048 (便民商业设施, filed against 河东镇): 河东镇 says on 05-16 that 镇北社区 is 河西镇's; the
  Office agrees on 05-18. 河东镇 reports it for May (the round was open), 河西镇 from June on.
- 南关街道 contests on 12-06 the November line for the kindergarten campaign it answered late (it had
  answered by email on the day); the Office strikes the line on 12-08.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from duban import audit
from duban.assessment import assess, contest, decide_appeal
from duban.db import session_scope
from duban.extensions.requests import decide, request
from duban.plan import Plan
from duban.reassign.proposals import decide as decide_move
from duban.reassign.proposals import propose

PEOPLE = {  # who acts for each unit in the story (the audit log names them)
    "河西镇": "刘洋",
    "河东镇": "陈静",
    "南关街道": "杨帆",
    "教体局": "赵六",
    "民政局": "李四",
    "区配套办": "王五",
}
PROGRESS = "已完成方案设计和施工招标，正在施工。"


def _ask(code: str, until: date, by: str, reason: str, progress: str = PROGRESS) -> dict:
    return {"code": code, "until": until, "by": by, "reason": reason, "progress": progress}


def _decide(code: str, by: str, approve: bool, until: date | None = None, reason: str = "") -> dict:
    return {"code": code, "by": by, "approve": approve, "until": until, "reason": reason}


EXTENSIONS = {  # day -> requests filed that day
    date(2022, 6, 24): [
        _ask("PT2022-0051", date(2022, 7, 31), "河西镇", "连续降雨，健身场地基层施工无法进行，器材安装相应推迟。")
    ],
    date(2022, 7, 25): [
        _ask(
            "PT2022-0046",
            date(2022, 10, 15),
            "河东镇",
            "养老服务站所在楼栋消防验收未通过，须整改后复验，装修交付相应推迟。",
            "装修已完成八成，消防整改已进场。",
        )
    ],
    date(2022, 8, 24): [
        _ask(
            "PT2022-0027",
            date(2022, 12, 31),
            "南关街道",
            "园舍存在在建工程抵押，开发企业资金链紧张，解除抵押后方能办理产权移交。",
            "已与开发企业及抵押权人达成解押方案，正在筹措解押资金。",
        )
    ],
}
DECISIONS = {  # day -> decisions made that day, in order
    date(2022, 6, 27): [_decide("PT2022-0051", "教体局", True)],
    date(2022, 6, 29): [
        _decide("PT2022-0051", "区配套办", False, reason="健身场地补建工程量小，雨季已过，应按原定时限完成。")
    ],
    date(2022, 7, 27): [_decide("PT2022-0046", "民政局", True, until=date(2022, 9, 30))],
    date(2022, 7, 29): [_decide("PT2022-0046", "区配套办", True)],
    date(2022, 8, 26): [_decide("PT2022-0027", "教体局", True)],
    date(2022, 8, 31): [
        _decide("PT2022-0027", "区配套办", True, reason="经区领导小组同意，延至城镇居住区幼儿园整治必须完成的时限。")
    ],
}
MOVE = {
    "code": "PT2022-0048",
    "township": "河西镇",
    "by": "河东镇",
    "reason": "经核实，镇北社区属河西镇辖区，摸排时误记为河东镇。",
}
MOVE_PROPOSED, MOVE_DECIDED = date(2022, 5, 16), date(2022, 5, 18)
APPEAL = {
    "unit": "南关街道",
    "reason": "本单位已于11月10日通过电子邮件向区配套办报送督导反馈表，因平台账号未开通，次日方录入平台，请予核销。",
}
APPEAL_FILED, APPEAL_DECIDED = date(2022, 12, 6), date(2022, 12, 8)


class RequestsReplay:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.filed: dict[str, int] = {}  # item -> its extension request's id
        self.appeal_id = 0

    def act(self, day: date) -> None:
        with session_scope() as session:
            for asked in EXTENSIONS.get(day, []):
                with audit.entered_by(PEOPLE[asked["by"]], "portal"):
                    row, _ = request(session, self.plan, as_of=day, **asked)
                self.filed[asked["code"]] = row.id
            for decision in DECISIONS.get(day, []):
                code = decision["code"]
                with audit.entered_by(PEOPLE[decision["by"]], "portal"):
                    decide(
                        session,
                        self.plan,
                        request_id=self.filed[code],
                        by=decision["by"],
                        approve=decision["approve"],
                        until=decision["until"],
                        reason=decision["reason"],
                        as_of=day,
                    )
            if day == MOVE_PROPOSED:
                with audit.entered_by(PEOPLE[MOVE["by"]], "portal"):
                    self.move, _ = propose(session, self.plan, as_of=day, **MOVE)
            if day == MOVE_DECIDED:
                with audit.entered_by(PEOPLE["区配套办"], "portal"):
                    decide_move(session, self.plan, number=self.move.id, approve=True, as_of=day)
            if day == APPEAL_FILED:
                self.appeal_id = self._appeal(session, day)
            if day == APPEAL_DECIDED:
                answer = "经核实，该单位已按期通过电子邮件反馈，撤销此项扣分。"
                decide_appeal(
                    session, self.plan, appeal_id=self.appeal_id, uphold=False, reason=answer, person="王五", as_of=day
                )

    def _appeal(self, session: Session, day: date) -> int:
        """南关街道's November line for the campaign answered late."""
        unit = APPEAL["unit"]
        lines = assess(session, self.plan, "2022-11", day).for_unit(unit).lines
        [line] = [x for x in lines if x.cause == "escalation" and x.link.startswith("/campaigns/")]
        return contest(session, self.plan, key=line.key, person=PEOPLE[unit], as_of=day, **APPEAL).id
