"""The test fakes themselves: a real SMTP server and a WeCom group-bot look-alike."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage

import httpx
import pytest
from fakes import FakeClock, SmtpServer, WecomServer

# -- SMTP


def _mail(subject: str = "测试") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "区配套办 <office@example.org>"
    msg["To"] = "town@example.org"
    msg["Subject"] = subject
    msg.set_content("请于5月15日前报送。")
    return msg


def test_smtp_chinese_subject_and_attachment(smtp_server: SmtpServer) -> None:
    msg = _mail("关于报送配套设施整改进度的通知")
    msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="整改进度通报（第3期）.pdf")
    with smtplib.SMTP("127.0.0.1", smtp_server.port, timeout=10) as client:
        client.login("duban", "secret")
        client.send_message(msg, to_addrs=["town@example.org", "cc@example.org"])
    assert smtp_server.wait_for(1)
    sender, rcpts, got = smtp_server.messages[0]
    assert sender == "office@example.org"
    assert rcpts == ["town@example.org", "cc@example.org"]
    assert got["Subject"] == "关于报送配套设施整改进度的通知"
    [attachment] = list(got.iter_attachments())
    assert attachment.get_filename() == "整改进度通报（第3期）.pdf"
    assert attachment.get_content() == b"%PDF-1.4 fake"
    assert smtp_server.logins == ["duban"]


def test_smtp_down_up_and_fail_next(smtp_server: SmtpServer) -> None:
    port = smtp_server.port
    smtp_server.down()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP("127.0.0.1", port, timeout=5)
    smtp_server.up()
    assert smtp_server.port == port
    smtp_server.fail_next(1)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as err:
            client.send_message(_mail())
        assert err.value.smtp_code == 451
        client.send_message(_mail())
    assert smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1


# -- WeCom


def _send(client: httpx.Client, server: WecomServer, key: str, payload: dict[str, object]) -> dict[str, object]:
    response = client.post(server.webhook_url(key), json=payload)
    assert response.status_code == 200
    return response.json()


def _text(content: str, mobiles: list[str] | None = None) -> dict[str, object]:
    return {"msgtype": "text", "text": {"content": content, "mentioned_mobile_list": mobiles or []}}


def test_wecom_text_limits_and_unknown_key(wecom_server: WecomServer) -> None:
    key = wecom_server.add_bot()
    with httpx.Client(timeout=10) as client:
        answer = _send(client, wecom_server, key, _text("请各街道于今日报送", ["13800000000"]))
        assert answer == {"errcode": 0, "errmsg": "ok"}
        too_long = _send(client, wecom_server, key, _text("a" * 2047 + "中"))  # 2050 bytes
        assert too_long["errcode"] == 40058
        assert _send(client, wecom_server, key, _text("a" * 2049))["errcode"] == 40058
        assert _send(client, wecom_server, key, _text("中" * 682 + "ab"))["errcode"] == 0  # 2048 bytes
        assert _send(client, wecom_server, "no-such-key", _text("x")) == {
            "errcode": 93000,
            "errmsg": "invalid webhook url",
        }
    first = wecom_server.delivered[0]
    assert first["key"] == key and first["msgtype"] == "text"
    assert first["content"] == "请各街道于今日报送"
    assert first["mentioned_mobile_list"] == ["13800000000"]
    assert len(wecom_server.delivered) == 2
    assert [r["errcode"] for r in wecom_server.requests] == [0, 40058, 40058, 0, 93000]


def test_wecom_rate_limit_with_fake_clock() -> None:
    clock = FakeClock()
    with WecomServer(clock=clock) as server, httpx.Client(timeout=10) as client:
        key = server.add_bot()
        for i in range(20):
            assert _send(client, server, key, _text(f"第{i}条"))["errcode"] == 0
            clock.advance(1)
        assert _send(client, server, key, _text("第21条"))["errcode"] == 45009
        other = server.add_bot()
        assert _send(client, server, other, _text("另一个群"))["errcode"] == 0
        clock.advance(40)  # 60 s after the first message
        assert _send(client, server, key, _text("第21条"))["errcode"] == 0
        assert _send(client, server, key, _text("第22条"))["errcode"] == 45009
        clock.advance(1)
        assert _send(client, server, key, _text("第22条"))["errcode"] == 0


def test_wecom_upload_then_file(wecom_server: WecomServer) -> None:
    key = wecom_server.add_bot()
    with httpx.Client(timeout=10) as client:
        upload = client.post(
            f"{wecom_server.url}/cgi-bin/webhook/upload_media",
            params={"key": key, "type": "file"},
            files={"media": ("第3期督办通报.pdf", b"%PDF-1.4 data", "application/octet-stream")},
        ).json()
        assert upload["errcode"] == 0 and upload["type"] == "file"
        media_id = upload["media_id"]
        assert _send(client, wecom_server, key, {"msgtype": "file", "file": {"media_id": media_id}})["errcode"] == 0
        bad = _send(client, wecom_server, key, {"msgtype": "file", "file": {"media_id": "nope"}})
        assert bad["errcode"] == 40007
    assert wecom_server.uploads[0]["filename"] == "第3期督办通报.pdf"
    assert wecom_server.uploads[0]["data"] == b"%PDF-1.4 data"
    assert wecom_server.delivered[0]["content"] == "第3期督办通报.pdf"


def test_wecom_upload_rfc5987_filename(wecom_server: WecomServer) -> None:
    key = wecom_server.add_bot()
    boundary = "b0undary"
    body = (
        (
            f"--{boundary}\r\n"
            "Content-Disposition: form-data; name=\"media\"; filename*=UTF-8''%E9%80%9A%E6%8A%A5.xlsx\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"\x00\x01xlsx\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    response = httpx.post(
        f"{wecom_server.url}/cgi-bin/webhook/upload_media?key={key}&type=file",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.json()["errcode"] == 0
    assert wecom_server.uploads[0]["filename"] == "通报.xlsx"
    assert wecom_server.uploads[0]["data"] == b"\x00\x01xlsx"


def test_wecom_scripted_faults(wecom_server: WecomServer) -> None:
    key = wecom_server.add_bot()
    wecom_server.script(key, ["http500", ("delay", 0.3), {"errcode": -1}, ("delay_drop", 0.2)])
    with httpx.Client(timeout=10) as client:
        response = client.post(wecom_server.webhook_url(key), json=_text("一"))
        assert response.status_code == 500
        started = time.monotonic()
        assert _send(client, wecom_server, key, _text("二"))["errcode"] == 0
        assert time.monotonic() - started >= 0.3
        assert _send(client, wecom_server, key, _text("三"))["errcode"] == -1
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(wecom_server.webhook_url(key), json=_text("四"))
        assert _send(client, wecom_server, key, _text("五"))["errcode"] == 0
    assert [d["content"] for d in wecom_server.delivered] == ["二", "五"]
    assert [(r["status"], r["errcode"]) for r in wecom_server.requests] == [
        (500, None),
        (200, 0),
        (200, -1),
        (None, None),
        (200, 0),
    ]
