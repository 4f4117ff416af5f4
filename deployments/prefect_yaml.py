"""The deployments as a prefect.yaml, for operators who deploy with `prefect deploy --all`.

Written from the plan by `duban deploy --write prefect.yaml` (never edited by hand), so the crons
stay in the plan file; a test keeps the committed prefect.yaml equal to what the plan gives.
"""

from __future__ import annotations

import yaml
from prefect import __version__ as prefect_version

from deployments.build import build, job_variables
from duban.plan import Plan

HEADER = """\
# Generated from the plan by `duban deploy --pool POOL --working-dir DIR --write prefect.yaml`;
# regenerate it (do not edit it) when the plan's schedules change. Deploy with:
#   PREFECT_API_URL=http://SERVER:4200/api prefect --no-prompt deploy --all --prefect-file prefect.yaml
# then, once per server, the automation that frees the slot of a run whose machine died:
#   PREFECT_API_URL=http://SERVER:4200/api duban deploy --dead-runs-only
"""


def render(plan: Plan, *, work_pool: str, working_dir: str) -> str:
    deployments = []
    for deployment in build(plan, work_pool=work_pool, working_dir=working_dir):
        deployments.append(
            {
                "name": deployment.name,
                "entrypoint": deployment.entrypoint,
                "description": deployment.description,
                "tags": list(deployment.tags),
                "concurrency_limit": deployment.concurrency_limit,
                "schedules": [
                    {"cron": s.schedule.cron, "timezone": s.schedule.timezone, "slug": s.slug}
                    for s in deployment.schedules
                ],
                "work_pool": {"name": work_pool, "job_variables": job_variables(working_dir)},
            }
        )
    document = {
        "name": "duban",
        "prefect-version": prefect_version,
        "build": None,
        "push": None,
        "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": working_dir}}],
        "deployments": deployments,
    }
    return HEADER + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120)
