"""Extension requests (延期申请): a unit asks, before a deadline, to move it; the plan's approvers decide."""

from duban.items.closeout import ClosureError


class ExtensionError(ClosureError):
    """A request or decision the rules refuse; the message says why, in Chinese (a ClosureError, so that
    every command and page that shows the chain's refusals shows these too)."""
