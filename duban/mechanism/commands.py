"""`duban project ...` and `duban deliverable ...`: the long-term mechanism at the Office's terminal."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from rich.table import Table

from duban.cli_common import as_of_option, entered_at_terminal, out, parse_date, print_json, user_errors
from duban.glossary import DELIVERABLE_STATE


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


@click.group()
def project() -> None:
    """New residential projects and their joint-review gates (联合审查/审核)."""


@project.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--by", "by", help="Unit filing the register; default the Office.")
@as_of_option
@user_errors
@entered_at_terminal
def project_import(file: Path, by: str | None, as_of: date) -> None:
    """Import the project register (.xlsx or .csv): all rows or none."""
    from duban.db import session_scope
    from duban.files.spreadsheet import read_sheet
    from duban.mechanism import register
    from duban.stored_plan import current_plan

    with session_scope() as session:
        plan = current_plan(session)
        rows = register.validate(plan, read_sheet(file, plan.limits))
        result = register.write(session, plan, rows, actor=by or plan.office.name, as_of=as_of)
    out.print(f"项目库导入完成：{result.summary()}")
    if result.passed:
        out.print(f"  补足配建后通过的环节：{'、'.join(result.passed)}")


@project.command("list")
@as_of_option
@click.option("--township", default=None)
@click.option("--json", "as_json", is_flag=True)
@user_errors
def project_list(as_of: date, township: str | None, as_json: bool) -> None:
    """Every project, its open gate, who is awaited and who is late."""
    from duban.db import session_scope
    from duban.mechanism.view import register_rows
    from duban.stored_plan import current_plan

    with session_scope() as session:
        rows = register_rows(session, current_plan(session), as_of, township=township)
    if as_json:
        print_json(rows)
        return
    table = Table()
    for column in ("项目编号", "项目名称", "镇办", "住户", "当前环节", "状态", "期限", "待签署", "逾期", "缺口"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["code"],
            r["name"],
            r["township"],
            str(r["households"]),
            r["gate"],
            r["state_label"],
            _iso(r["due_on"]) or "",
            "、".join(r["waiting"]),
            "、".join(r["late"]),
            f"{r['shortfalls']}项" + (f"（已豁免{r['waived']}项）" if r["waived"] else ""),
        )
    out.print(table)


@project.command("show")
@click.argument("code")
@as_of_option
@click.option("--json", "as_json", is_flag=True)
@user_errors
def project_show(code: str, as_of: date, as_json: bool) -> None:
    """One project: what it must provide against what is committed, and every gate with its signatures."""
    from duban.db import session_scope
    from duban.mechanism.gates import get_project
    from duban.mechanism.view import project_view
    from duban.stored_plan import current_plan

    with session_scope() as session:
        data = project_view(session, current_plan(session), get_project(session, code), as_of)
    if as_json:
        print_json(data)
        return
    out.print(f"{data['code']} {data['name']}（{data['township']}，{data['developer']}，{data['households']}户）")
    facilities = Table(title="配建要求与承诺")
    for column in ("设施", "计量", "应配建", "承诺", "缺口", "豁免"):
        facilities.add_column(column)
    for p in data["provisions"]:
        facilities.add_row(
            p["facility"],
            f"{p['measure']}（{p['unit']}）",
            str(p["required"]),
            str(p["committed"]),
            str(p["shortfall"]) if p["shortfall"] else "—",
            f"已豁免：{p['waiver_reason']}" if p["waived"] else "",
        )
    out.print(facilities)
    steps = Table(title="联合审查环节")
    for column in ("环节", "牵头", "状态", "轮次", "提交", "期限", "会签意见"):
        steps.add_column(column)
    for g in data["gates"]:
        said = []
        for s in g["signatures"]:
            if s["round"] != g["round"]:
                continue
            mark = "（逾期）" if s["late"] else ""
            said.append(f"{s['signer']}：{s['decision_label']}{mark}" + (f"（{s['reasons']}）" if s["reasons"] else ""))
        steps.add_row(
            g["name"],
            g["lead"],
            g["state_label"] + ("，配建缺口未豁免" if g["blocked"] else ""),
            str(g["round"] or ""),
            _iso(g["submitted_on"]) or "",
            _iso(g["resubmit_due"] if g["state"] == "returned" else g["due_on"]) or "",
            "；".join(said),
        )
    out.print(steps)


@project.command("sign")
@click.argument("code")
@click.option("--by", "by", required=True, help="The signing department.")
@click.option("--approve/--reject", "approve", required=True)
@click.option("--reasons", default="", help="Required with --reject.")
@click.option("--conditions", default="", help="Conditions or changes required.")
@click.option("--gate", "gate", default=None, help="The gate expected to be open (a guard against a stale view).")
@as_of_option
@user_errors
@entered_at_terminal
def project_sign(
    code: str, by: str, approve: bool, reasons: str, conditions: str, gate: str | None, as_of: date
) -> None:
    """Countersign the project's open gate (同意), or reject it with reasons (不同意)."""
    from duban.db import session_scope
    from duban.mechanism import gates
    from duban.stored_plan import current_plan

    with session_scope() as session:
        plan = current_plan(session)
        row = gates.sign(
            session,
            plan,
            code,
            signer=by,
            approve=approve,
            reasons=reasons,
            conditions=conditions,
            as_of=as_of,
            gate_code=gate,
        )
        name, state = gates.rule_of(plan, row).name, row.state
        project = gates.get_project(session, code)
        now = plan.mechanism.gate(project.gate).name if project.gate else "全部环节已通过"
    verdict = "同意" if approve else "不同意，已退回牵头部门"
    out.print(f"{by}已签署项目{code}{name}会签意见：{verdict}。")
    if approve and state == "passed":
        out.print(f"  {name}已通过；当前环节：{now}")


@project.command("submit")
@click.argument("code")
@click.option("--by", "by", required=True, help="The gate's lead department.")
@click.option("--note", default="", help="What is submitted, or what was changed after a rejection.")
@click.option("--gate", "gate", default=None, help="The gate expected to be open (a guard against a stale view).")
@as_of_option
@user_errors
@entered_at_terminal
def project_submit(code: str, by: str, note: str, gate: str | None, as_of: date) -> None:
    """Put the project's open gate (or a returned one) to its signers."""
    from duban.db import session_scope
    from duban.mechanism import gates
    from duban.stored_plan import current_plan

    with session_scope() as session:
        plan = current_plan(session)
        row = gates.submit(session, plan, code, by=by, note=note, as_of=as_of, gate_code=gate)
        name, due = gates.rule_of(plan, row).name, row.due_on
    out.print(f"项目{code}{name}已提交会签（第{row.round}次），会签期限{due.isoformat()}。")


@project.command("waive")
@click.argument("code")
@click.option("--standard", required=True, help="The standard's code or facility, e.g. kindergarten or 幼儿园.")
@click.option("--reason", required=True)
@click.option("--by", "by", default=None, help="Default the Office.")
@as_of_option
@user_errors
@entered_at_terminal
def project_waive(code: str, standard: str, reason: str, by: str | None, as_of: date) -> None:
    """Record the Office's waiver of one shortfall (audited); a gate it held may then pass."""
    from duban.db import session_scope
    from duban.mechanism import gates
    from duban.stored_plan import current_plan

    with session_scope() as session:
        plan = current_plan(session)
        waiver = gates.waive(
            session, plan, code, standard=standard, reason=reason, by=by or plan.office.name, as_of=as_of
        )
        rule = plan.mechanism.standard(waiver.standard)
        project = gates.get_project(session, code)
        now = plan.mechanism.gate(project.gate).name if project.gate else "全部环节已通过"
    out.print(f"已记录项目{code}{rule.facility}缺口{waiver.shortfall}{rule.unit}的豁免。当前环节：{now}")


@click.group()
def deliverable() -> None:
    """The plan's documents (专项规划, 联合审查机制, 工作专班): progress, issue, verification."""


@deliverable.command("list")
@click.option("--owner", default=None)
@as_of_option
@click.option("--json", "as_json", is_flag=True)
@user_errors
def deliverable_list(owner: str | None, as_of: date, as_json: bool) -> None:
    """Every deliverable, its owner, due date and state."""
    from duban.db import session_scope
    from duban.mechanism import deliverables
    from duban.stored_plan import current_plan

    with session_scope() as session:
        deliverables.ensure(session, current_plan(session), as_of)
        rows = [
            {
                "milestone": d.milestone,
                "title": d.title,
                "owner": d.owner,
                "due": d.due,
                "state": d.state,
                "state_label": DELIVERABLE_STATE[d.state],
                "document_no": d.document_no,
                "issued_on": d.issued_on,
                "verified_on": d.verified_on,
                "late": d.state != "issued" and as_of > d.due or bool(d.issued_on and d.issued_on > d.due),
            }
            for d in deliverables.deliverables(session, owner=owner)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table()
    for column in ("节点", "文件", "责任单位", "时限", "状态", "文号", "印发日期", "核验"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["milestone"],
            r["title"],
            r["owner"],
            r["due"].isoformat(),
            r["state_label"] + ("（逾期）" if r["late"] else ""),
            r["document_no"],
            _iso(r["issued_on"]) or "",
            "已核验" if r["verified_on"] else ("待核验" if r["state"] == "issued" else ""),
        )
    out.print(table)


@deliverable.command("state")
@click.argument("milestone")
@click.option("--by", "by", required=True, help="The owner.")
@click.option("--to", "state", required=True, type=click.Choice(["not_started", "drafting", "under_review"]))
@click.option("--note", default="")
@as_of_option
@user_errors
@entered_at_terminal
def deliverable_state(milestone: str, by: str, state: str, note: str, as_of: date) -> None:
    """The owner's progress: 未启动, 起草中, 报审中."""
    from duban.db import session_scope
    from duban.mechanism import deliverables
    from duban.stored_plan import current_plan

    with session_scope() as session:
        plan = current_plan(session)
        deliverables.ensure(session, plan, as_of)
        row = deliverables.set_state(session, plan, milestone, by, state, as_of=as_of, note=note)
    out.print(f"{by}的{row.title}：{DELIVERABLE_STATE[state]}")


@deliverable.command("issue")
@click.argument("milestone")
@click.option("--by", "by", required=True, help="The owner.")
@click.option("--document-no", required=True, help="文号, e.g. X自然资发〔2022〕12号.")
@click.option("--issued-on", required=True, callback=parse_date, metavar="DATE")
@click.option("--file", "file", required=True, type=click.Path(path_type=Path), help="The issued document.")
@as_of_option
@user_errors
@entered_at_terminal
def deliverable_issue(milestone: str, by: str, document_no: str, issued_on: date, file: Path, as_of: date) -> None:
    """File the issued document (已印发) for the Office to verify."""
    from duban import config
    from duban.db import session_scope
    from duban.mechanism import deliverables
    from duban.stored_plan import current_plan

    with session_scope() as session:
        plan = current_plan(session)
        deliverables.ensure(session, plan, as_of)
        row = deliverables.file_issued(
            session,
            plan,
            milestone,
            by,
            document_no=document_no,
            issued_on=issued_on,
            path=file,
            store=config.home() / "deliverables",
            as_of=as_of,
        )
    out.print(f"{by}的{row.title}已报送印发文件（{row.document_no}），待{plan.office.name}核验。")


@deliverable.command("verify")
@click.argument("milestone")
@click.option("--owner", required=True)
@click.option("--reject", "reason", default=None, help="Return it with this reason instead of confirming.")
@click.option("--by", "by", default=None, help="Default the Office.")
@as_of_option
@user_errors
@entered_at_terminal
def deliverable_verify(milestone: str, owner: str, reason: str | None, by: str | None, as_of: date) -> None:
    """The Office confirms the filed document, or returns it with a reason."""
    from duban.db import session_scope
    from duban.mechanism import deliverables
    from duban.stored_plan import current_plan

    with session_scope() as session:
        plan = current_plan(session)
        row = deliverables.verify(
            session,
            plan,
            milestone,
            owner,
            by=by or plan.office.name,
            accept=reason is None,
            reason=reason or "",
            as_of=as_of,
        )
    out.print(f"{owner}的{row.title}" + ("已核验确认印发。" if reason is None else "已退回：" + reason))
