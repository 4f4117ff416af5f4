"""duban's tables, in one place so the shape of the data is seen at a glance."""

from models.account import Account, Acknowledgement, WebSession, WecomSignIn
from models.assessment import AssessmentAppeal, AssessmentLine, AssessmentMonth, AssessmentScore
from models.audit import AuditEntry, AuditHead
from models.bulletin import BulletinRecord
from models.campaign import Campaign, CampaignItem
from models.escalation import Escalation
from models.extension import ExtensionDecision, ExtensionRequest
from models.ledger import Evidence, LedgerItem, PlanMilestone, RectificationPlan
from models.mechanism import Deliverable, Project, ProjectGate, Signature, Waiver
from models.outbox import DeliveredPart, OutboxMessage, WecomSend
from models.programme import Category, ProgrammeRecord, UnitRecord
from models.reassignment import Reassignment
from models.reporting import (
    MilestoneDone,
    ReportCorrection,
    ReportingPeriod,
    Review,
    Submission,
    SubmissionLine,
    SubmissionVersion,
)
from models.wecom import WecomAppSend, WecomToken

__all__ = [
    "Account",
    "Acknowledgement",
    "AssessmentAppeal",
    "AssessmentLine",
    "AssessmentMonth",
    "AssessmentScore",
    "AuditEntry",
    "AuditHead",
    "BulletinRecord",
    "Campaign",
    "CampaignItem",
    "Category",
    "DeliveredPart",
    "Deliverable",
    "Escalation",
    "ExtensionDecision",
    "ExtensionRequest",
    "Evidence",
    "LedgerItem",
    "MilestoneDone",
    "OutboxMessage",
    "PlanMilestone",
    "Project",
    "ProjectGate",
    "ProgrammeRecord",
    "Reassignment",
    "RectificationPlan",
    "ReportCorrection",
    "ReportingPeriod",
    "Review",
    "Submission",
    "SubmissionLine",
    "Signature",
    "SubmissionVersion",
    "UnitRecord",
    "Waiver",
    "WebSession",
    "WecomAppSend",
    "WecomSend",
    "WecomSignIn",
    "WecomToken",
]
