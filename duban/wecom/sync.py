"""The address book read for `duban user sync-wecom`: the app's client, its errors made user errors."""

from __future__ import annotations

from duban.wecom.client import AppClient, WecomApiError
from duban.wecom.config import NOT_CONFIGURED, WecomConfigError, configured


def address_book() -> list[dict[str, str]]:
    """Every member the app sees (userid, name, mobile); WecomConfigError (a user error) when it cannot be read."""
    app = configured()
    if app is None:
        raise WecomConfigError(NOT_CONFIGURED)
    try:
        with AppClient(app) as client:
            return client.address_book()
    except WecomApiError as exc:
        if isinstance(exc, WecomConfigError):
            raise
        raise WecomConfigError(f"无法读取企业微信通讯录：{exc.reason}") from None
