"""The self-built app from the environment, never the plan: its ids, its secret and the hosts it talks to.

政务微信 and private WeCom deployments serve the same API on other hosts, and the tests point at a local
look-alike, so every host is a setting. The secret is read like the bots' keys (`notifications.secrets`):
from the environment or a Prefect secret block; errors name the variable, never its value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from notifications.secrets import secret

CORP_ID = "DUBAN_WECOM_CORP_ID"
AGENT_ID = "DUBAN_WECOM_AGENT_ID"
APP_SECRET = "DUBAN_WECOM_APP_SECRET"
HOSTS = {
    "api": ("DUBAN_WECOM_API", "https://qyapi.weixin.qq.com"),
    "oauth": ("DUBAN_WECOM_OAUTH_URL", "https://open.weixin.qq.com"),
    "sso": ("DUBAN_WECOM_SSO_URL", "https://login.work.weixin.qq.com"),
}

NOT_CONFIGURED = f"未配置企业微信自建应用（环境变量 {CORP_ID}、{AGENT_ID}、{APP_SECRET}）"


class WecomConfigError(Exception):
    """The app is set up wrongly; the message (Chinese) names the variable to fix, never a secret."""


@dataclass(frozen=True)
class App:
    corp_id: str
    agent_id: int
    secret: str = field(repr=False)
    api: str = HOSTS["api"][1]
    oauth_url: str = HOSTS["oauth"][1]
    sso_url: str = HOSTS["sso"][1]


def configured() -> App | None:
    """The app when its corp id, agent id and secret are all set; None when none is (the app is not used).

    Raises WecomConfigError when only some are set or a value is malformed.
    """
    corp_id = os.environ.get(CORP_ID, "").strip()
    agent_id = os.environ.get(AGENT_ID, "").strip()
    app_secret = (secret(APP_SECRET) or "").strip()
    given = {CORP_ID: corp_id, AGENT_ID: agent_id, APP_SECRET: app_secret}
    if not any(given.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise WecomConfigError(f"企业微信自建应用配置不完整：未设置环境变量 {'、'.join(missing)}")
    if not agent_id.isdigit():
        raise WecomConfigError(f"环境变量 {AGENT_ID} 应为企业微信应用的 AgentId（数字）")
    hosts = {}
    for key, (name, default) in HOSTS.items():
        value = os.environ.get(name, "").strip().rstrip("/") or default
        if not value.startswith(("https://", "http://")):
            raise WecomConfigError(f"环境变量 {name} 应为以 https:// 开头的地址")
        hosts[key] = value
    return App(corp_id, int(agent_id), app_secret, hosts["api"], hosts["oauth"], hosts["sso"])


def is_configured() -> bool:
    """Whether the app is in use (its corp id is set): pages offer WeCom sign-in and links go through it."""
    return bool(os.environ.get(CORP_ID, "").strip())
