"""三、长效机制: the plan's documents tracked as deliverables, and new residential projects walked
through their joint-review gates (联合审查/审核) against the provisioning standards (配建标准)."""


class MechanismError(Exception):
    """A step of the mechanism that cannot be taken; the message (Chinese) says why. Nothing changed."""
