"""The file channel: what would have been sent, written to $DUBAN_HOME/outbox/ (.eml or .json).

It is the default delivery (DUBAN_DELIVERY unset), so the demo and a fresh install show exactly
what each unit would receive. Webhook keys are never written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from notifications.message import Outgoing, email_message
from notifications.wecom import MARKDOWN_LIMIT, split_bytes


class FileTransport:
    def __init__(self, folder: Path, sender: tuple[str, str]) -> None:
        self.folder = folder
        self.sender = sender

    def send(self, message: Outgoing) -> Path:
        day = message.created.date().isoformat() if message.created else "undated"
        name = f"{min(message.ids):06d}-{_safe(message.recipient)}-{message.channel}"
        target = self.folder / day / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if message.channel == "wecom_app":
            from notifications.wecom_app import file_payload

            path = target.with_suffix(".json")
            path.write_text(json.dumps(file_payload(message), ensure_ascii=False, indent=2), encoding="utf-8")
            return path
        if message.channel == "wecom":
            path = target.with_suffix(".json")
            payload = {
                "bot_key_variable": message.address,
                "recipient": message.recipient,
                "messages": [
                    {"msgtype": "markdown", "markdown": {"content": chunk}}
                    for chunk in split_bytes(message.body, MARKDOWN_LIMIT)
                ],
                "mentioned_mobile_list": list(message.mentions),
                "attachments": [p.name for p in message.attachments],
                "outbox_ids": list(message.ids),
            }
            path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
            return path
        path = target.with_suffix(".eml")
        to = message.address or f"{message.recipient}（未配置接收渠道）"
        path.write_bytes(bytes(email_message(message, self.sender, to)))
        return path

    def close(self) -> None:
        return None


def _safe(text: str) -> str:
    return re.sub(r"[^\w\u4e00-\u9fff-]+", "_", text)
