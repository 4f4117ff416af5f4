"""帮助: how to do each step on the portal, the reader's own role first, and whom to ask."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from duban.db import session_scope
from duban.desk.contacts import desks
from duban.stored_plan import current_plan
from duban.web.deps import Signed, render
from duban.web.guides import KINDS, guides

router = APIRouter()


@router.get("/help")
def help_page(request: Request, who: Signed) -> Response:
    with session_scope() as session:
        plan = current_plan(session)
        found = desks(session, plan, who.unit, who.kind)
    own = who.kind if who.kind in KINDS else "township"
    return render(
        request,
        "help.html",
        own=own,
        others=[g for g in KINDS if g != own],
        desks=found,
        guides=guides(plan),  # duban/web/help/guides.yaml, the dates and limits the plan's
    )
