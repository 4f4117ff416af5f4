"""Which address a request comes from: the socket's, unless the socket is a proxy the configuration names.

`DUBAN_TRUSTED_PROXIES` lists the reverse proxies (addresses or CIDR networks, comma-separated; none by
default). Only a connection from one of them may say, in `X-Forwarded-For`, whom it forwards; anyone
else's header is ignored, so a client cannot choose the address the sign-in throttle counts. Of the
addresses the header lists, the client is the last one that is not itself a trusted proxy: the ones
before it were written by whoever sent the request and prove nothing."""

from __future__ import annotations

import ipaddress
import os
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SETTING = "DUBAN_TRUSTED_PROXIES"


class ProxySettingError(ValueError):
    """DUBAN_TRUSTED_PROXIES names something that is not an address or a network."""


def trusted_proxies(raw: str | None = None) -> tuple[Network, ...]:
    """The proxies named by DUBAN_TRUSTED_PROXIES (or `raw`), checked."""
    text = os.environ.get(SETTING, "") if raw is None else raw
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ProxySettingError(
                f"环境变量 {SETTING} 中的“{part}”不是有效的IP地址或网段"
                "（例如 127.0.0.1 或 10.0.0.0/24，多个以逗号分隔）"
            ) from None
    return tuple(networks)


class Proxies:
    """Rewrites an ASGI scope's client address when the connection comes from a trusted proxy."""

    def __init__(self, networks: tuple[Network, ...]) -> None:
        self.networks = networks

    def trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def believe(self, scope: dict[str, Any]) -> None:
        client = scope.get("client")
        if not self.networks or not client or not self.trusted(client[0]):
            return
        listed = [
            part.strip()
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
            for part in value.decode("latin-1").split(",")
        ]
        for address in reversed(listed):
            if self.trusted(address):
                continue
            try:
                ipaddress.ip_address(address)
            except ValueError:
                return  # a proxy that writes no address: the socket's stays
            scope["client"] = (address, 0)
            return
