"""Every code a person may see, with its Chinese label: pages, exports, messages and the CLI read them here.

A value with no label here is a defect: `label` shows what is missing rather than the raw code.
"""

from __future__ import annotations

from datetime import date

# Ledger items: their state, the roles of the chain, the traffic light, the history's actions and fields.
ITEM_STATUS = {
    "open": "已建账",
    "planned": "已制定方案",
    "in_progress": "整改中",
    "close_requested": "申请销号",
    "verified": "部门已核验",
    "closed": "已销号",
    "cancelled": "已撤销",
}
TERMINAL = frozenset({"closed", "cancelled"})  # the statuses an item ends in: no light, no deadline counted
CHAIN_ROLE = {"responsible": "责任单位", "lead": "牵头部门", "office": "领导小组办公室"}
LIGHT = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "none": "未定时限"}
ITEM_ACTION = {
    "create": "建账",
    "update": "修改台账",
    "plan": "整治方案",
    "transition": "状态变更",
    "progress": "月度进展",
    "repair": "数据修复",
    "reassign": "调整责任单位",
}
ITEM_FIELD = {
    "township": "镇办",
    "community": "社区",
    "category": "设施类别",
    "facility_type": "设施类型",
    "stage": "问题环节",
    "description": "问题描述",
    "lead_department": "牵头部门",
    "responsible_unit": "责任单位",
    "key_difficult": "重点难点",
    "status": "状态",
    "progress": "整改进度",
    "measures": "整改措施",
    "deadline": "完成时限",
    "revision": "方案版本",
    "milestones": "时间节点",
    "lead_unit": "牵头单位",
    "action": "操作",
    "evidence": "佐证材料",
}
AUDIT_VIA = {"portal": "", "cli": "操作员代录"}
# The audit log as the auditor's page names it: what an entry is about, and what was done.
AUDIT_SUBJECT = {
    "item": "问题",
    "ledger": "台账",
    "programme": "工作方案",
    "period": "报送期",
    "submission": "月度报表",
    "campaign": "专项督导",
    "acknowledgement": "签收",
    "project": "新建住宅项目",
    "deliverable": "长效机制文件",
    "summary": "年度工作情况报告",
    "extension": "延期申请",
    "account": "账号",
    "export": "导出",
    "download": "下载",
    "reassignment": "调整责任单位申请",
    "assessment_appeal": "考核申诉",
}
AUDIT_ACTION = ITEM_ACTION | {
    "add": "开通账号",
    "disable": "停用账号",
    "enable": "启用账号",
    "reset_password": "重置密码",
    "wecom_userid": "设置企业微信账号",
    "change_password": "修改密码",
    "locked": "账号锁定",
    "unlock": "解除锁定",
    "sign_in": "登录",
    "sign_in_refused": "登录失败",
    "wecom_confirmed": "企业微信身份核验通过",
    "end_sessions": "结束会话",
    "second_factor_enrolled": "绑定动态口令",
    "second_factor_passed": "动态口令验证通过",
    "second_factor_refused": "动态口令验证失败",
    "second_factor_reset": "重置动态口令",
    "recovery_code_used": "使用恢复码",
    "second_factor_unreadable": "动态口令无法核验",
    "open": "开启报送",
    "draft": "保存草稿",
    "submit": "报送",
    "accept": "审核通过",
    "return": "退回",
    "correction_request": "申请更正",
    "correction_allow": "准予更正",
    "correction_refuse": "不予更正",
    "start": "启动专项督导",
    "respond": "反馈",
    "load": "载入方案",
    "revise": "修订方案",
    "acknowledge": "签收",
    "registered": "登记项目",
    "updated": "修改项目",
    "shortfall_waived": "豁免配建缺口",
    "gate_skipped": "环节不适用",
    "gate_opened": "开启环节",
    "gate_submitted": "提交会签",
    "signed": "会签同意",
    "rejected": "会签不同意",
    "submission_note": "报送说明",
    "gate_passed": "环节通过",
    "deliverable_state": "更新文件进度",
    "deliverable_issued": "报送印发文件",
    "deliverable_verified": "核验通过",
    "deliverable_returned": "核验退回",
    "summary_issued": "印发年度工作情况报告",
    "request": "申请延期",
    "approve": "审批同意",
    "refuse": "审批不同意",
    "granted": "准予延期",
    "refused": "不予延期",
    "appeal": "提出申诉",
    "appeal_upheld": "申诉不予支持（维持扣分）",
    "appeal_struck": "申诉成立（撤销扣分）",
    "assessment": "考核结果",
    # exports (subject "export"): which list
    "items": "问题清单",
    "reports": "月度报送情况",
    "campaign_answers": "专项督导反馈情况",
    "projects": "新建住宅项目联合审查",
    "outbox": "消息队列",
    "audit": "审计日志",
    # downloads (subject "download"): which file
    "evidence": "佐证材料",
    "bulletin": "通报",
    "document": "长效机制印发文件",
    "report_form": "填报表",
    # reassignments (subject "reassignment")
    "propose": "申请调整责任单位",  # its "approve" and "refuse" read as the extensions' 审批同意, 审批不同意
}

# Monthly reporting and escalation.
REPORT_STATUS = {
    "requested": "待报送",
    "draft": "已存草稿",
    "submitted": "已报送",
    "returned": "已退回",
    "accepted": "已审核通过",
    "correcting": "更正中",
}
# A request to correct an accepted report (申请更正) and its answer.
CORRECTION_STATE = {"pending": "待处理", "allowed": "准予更正", "refused": "不予更正"}
REPORT_KIND = {"township": "镇办报表", "department": "部门汇总报表"}
ESCALATION_CAUSE = {
    "missing_submission": "逾期未报送",
    "overdue_item": "问题逾期",
    "overdue_milestone": "时间节点逾期",
    "campaign_response": "专项督导未反馈",
    "unacknowledged": "逾期未签收",
    "late_countersign": "会签逾期",
    "late_resubmission": "退回后逾期未重新提交",
    "overdue_deliverable": "长效机制文件逾期",
}
LEVEL = {1: "督办", 2: "挂牌督办", 3: "分管副区长督办"}
# 考核: the cause of each line of a unit's score, the cards, a line's role, an appeal's state
ASSESSMENT_CAUSE = {
    "report_late": "报表逾期报送",
    "report_missing": "报表未报送",
    "report_returned": "报表被退回",
    "item_overdue": "问题逾期未完成整改",
    "escalation": "被督办",
    "unacknowledged": "逾期未签收",
    "late_countersign": "会签逾期",
    "overdue_deliverable": "长效机制文件逾期",
    "extension_refused": "延期申请未获批准",
    "closed_early": "提前完成整改销号",
    "card_yellow": "黄牌警示",
    "card_red": "红牌警示",
}
CARD = {"yellow": "黄牌", "red": "红牌"}
ASSESSMENT_ROLE = {"lead": "主办", "co": "协办"}
APPEAL_STATE = {"pending": "待裁定", "upheld": "维持扣分", "struck": "撤销扣分"}
NOTICE_KIND = {  # what a unit signs for (签收)
    "round": "报送通知",
    "campaign": "专项督导通知",
    "escalation": "督办通知",
    "gate": "会签通知",
    "deliverable": "文件印发提醒",
    "reassignment": "调整责任单位通知",
    "extension": "延期申请通知",
}
# Extension requests (延期申请): their state, who decides each step, each decision.
EXTENSION_STATE = {"pending": "审批中", "granted": "已批准延期", "refused": "未批准延期"}
EXTENSION_ROLE = {"lead_department": "牵头部门", "office": "领导小组办公室", "leadership_group": "报领导小组"}
EXTENSION_DECISION = {"approved": "同意", "refused": "不同意"}

# Reassignment (调整责任单位): a proposal's state, and the units it moves.
REASSIGNMENT_STATE = {"pending": "待决定", "approved": "已同意调整", "refused": "不同意调整"}
REASSIGNED_ROLE = {"township": "镇办", "responsible": "责任单位", "lead": "牵头部门"}

# The long-term mechanism.
GATE_STATE = {
    "waiting": "未开始",
    "open": "待提交",
    "in_review": "会签中",
    "returned": "已退回",
    "passed": "已通过",
    "skipped": "不适用",
}
DECISION = {"approved": "同意", "rejected": "不同意", "void": "无需签署"}
DELIVERABLE_STATE = {"not_started": "未启动", "drafting": "起草中", "under_review": "报审中", "issued": "已印发"}

# People and units.
ACCOUNT_ROLE = {
    "clerk": "经办人",
    "head": "负责人",
    "reviewer": "审核人",
    "staff": "工作人员",
    "sysadmin": "系统管理员",
    "secadmin": "安全管理员",
    "auditor": "审计管理员",
    "leader": "区领导",
}
DUTY_PAGES = {
    "sysadmin": ("/accounts", "账号管理"),
    "secadmin": ("/security", "安全管理"),
    "auditor": ("/audit", "审计日志"),
}
UNIT_KIND = {"township": "镇办", "department": "牵头部门", "office": "领导小组办公室", "leader": "区领导"}

# The year-end report: where an item not finished in the year stands at the year's end.
CARRIED = {
    "next_year": "完成时限在下一年度",
    "overdue": "逾期未完成",
    "pending": "本年度到期、尚未完成",
    "no_deadline": "未定完成时限",
}

# Messages and documents.
OUTBOX_STATUS = {"queued": "待发送", "sending": "发送中", "sent": "已发送", "failed": "失败待重试", "dead": "无法送达"}
CHANNEL = {"email": "电子邮件", "wecom": "企业微信群", "file": "本地存档", "wecom_app": "企业微信应用"}
FILE_KIND = {"docx": "Word文档", "pdf": "PDF文档", "html": "网页版", "md": "文本版", "xlsx": "Excel表格"}
YES_NO = {True: "是", False: "否"}
# Evidence file types as an upload field names them (several types read as one word: 图片, Word, Excel).
EVIDENCE_KIND = {
    "pdf": "PDF",
    "jpg": "图片",
    "png": "图片",
    "doc": "Word",
    "docx": "Word",
    "xls": "Excel",
    "xlsx": "Excel",
    "pptx": "PowerPoint",
    "txt": "文本",
}
# Backups (duban backup / restore).
DATABASE_KIND = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
CHECK_RESULT = {True: "通过", False: "未通过"}


def label(table: dict, code: object) -> str:
    """The label of `code`; an unknown code is shown as such, never as itself."""
    if code is None or code == "":
        return "—"
    return table.get(code, "（未知）")


def cn_date(day: date | None) -> str:
    """2022年5月5日, as official documents write dates."""
    return "" if day is None else f"{day.year}年{day.month}月{day.day}日"


def cn_period(period: str) -> str:
    """2022-06 -> 2022年6月."""
    year, month = period.split("-")
    return f"{year}年{int(month)}月"


def file_size(size: int) -> str:
    """Bytes as a clerk reads them: 812 字节, 5 KB, 5 MB (one decimal only where it matters)."""
    if size < 1024:
        return f"{size} 字节"
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value >= 100 or value == int(value) else f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def percent(value: float | int | None) -> str:
    return "—" if value is None else f"{value:g}%"
