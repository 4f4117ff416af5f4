"""Reassignment (转办 / 调整责任单位): an item filed against the wrong township, responsible unit or lead
department is moved, with its history, once the Office approves a proposal.

A unit concerned (the item's township, responsible unit or lead department) or the Office proposes, with a
reason; the Office approves (possibly with a new deadline) or refuses. Approval moves the item's kept units
(an audit entry of the item says so, so past dates still answer with the old units), makes a plan revision
naming the new units, resolves the open escalations of the item, and starts the chase afresh for the new
units (`keys`); the new units get a notice to sign for and a message.
"""

from duban.items.closeout import ClosureError


class ReassignError(ClosureError):
    """A proposal or decision refused; the message says why, in Chinese (the CLI shows it as a clerk's error)."""
