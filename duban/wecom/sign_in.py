"""Where WeCom sign-in sends a browser: WeCom's own browser to the OAuth authorize page (silent, snsapi_base),
any other to the QR login; both come back to the portal's callback with a `code` and the `state`.

The callback is `DUBAN_PORTAL_URL` + /auth/wecom/callback, never built from the request's Host header:
its domain is the app's 可信域名, registered once in the WeCom admin console.
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlencode

from duban.wecom.config import App, is_configured

CALLBACK = "/auth/wecom/callback"


def portal_base() -> str | None:
    """The portal's public address (`DUBAN_PORTAL_URL`), or None when not set."""
    base = os.environ.get("DUBAN_PORTAL_URL", "").strip().rstrip("/")
    return base if base.startswith(("https://", "http://")) else None


def offered() -> bool:
    """The sign-in page offers 企业微信登录 when the app and the portal's address are both set."""
    return is_configured() and portal_base() is not None


def in_wecom(user_agent: str) -> bool:
    """WeCom's built-in browser names itself `wxwork` in its user agent (政务微信's is built on it)."""
    return "wxwork" in user_agent.lower()


def authorize_url(app: App, portal: str, state: str) -> str:
    """WeCom's browser: the OAuth authorize page, which returns at once with a code for the member."""
    query = {
        "appid": app.corp_id,
        "redirect_uri": portal + CALLBACK,
        "response_type": "code",
        "scope": "snsapi_base",
        "state": state,
        "agentid": str(app.agent_id),
    }
    return f"{app.oauth_url}/connect/oauth2/authorize?{urlencode(query, quote_via=quote)}#wechat_redirect"


def qr_url(app: App, portal: str, state: str) -> str:
    """Elsewhere (an office PC): the QR login page; the member scans it with WeCom and confirms."""
    query = {
        "login_type": "CorpApp",
        "appid": app.corp_id,
        "agentid": str(app.agent_id),
        "redirect_uri": portal + CALLBACK,
        "state": state,
    }
    return f"{app.sso_url}/wwlogin/sso/login?{urlencode(query, quote_via=quote)}"
