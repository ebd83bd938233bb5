"""Who a member of the public is, for rate limits: the client's network address.

Behind a reverse proxy every connection comes from the proxy, so the address the
proxy saw goes in ``X-Forwarded-For``. That header is believed only when the
connection itself comes from a proxy listed in the ``trusted_proxies`` setting;
anyone else could write any address into it.
"""

from __future__ import annotations

import ipaddress


def _parse(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: str) -> str:
    """The client's address.

    Parameters
    ----------
    peer
        The address the connection came from, as the server saw it (None when unknown).
    forwarded_for
        The request's ``X-Forwarded-For`` header, if any: comma-separated addresses,
        the client first and each proxy appending the address it was reached from.
    trusted_proxies
        Comma-separated addresses of proxies whose header is believed.

    Returns
    -------
    str
        The right-most address in the chain that is not a trusted proxy, when the
        connection comes from a trusted proxy; else ``peer`` itself; ``""`` when unknown.
    """
    trusted = {a for a in (_parse(t) for t in trusted_proxies.split(",") if t.strip()) if a}
    here = _parse(peer or "")
    if here is None:
        return ""
    if here not in trusted or not forwarded_for:
        return here
    chain = [a for a in (_parse(t) for t in forwarded_for.split(",")) if a]
    for hop in reversed(chain):
        if hop not in trusted:
            return hop
    return here
