"""A revoked token: refused at once for new connections, and its open connection is closed."""

from __future__ import annotations

import pytest

from assist.app import Running
from tests.conftest import issue, open_client


async def test_a_revoked_token_cannot_connect_and_its_open_connection_is_closed(service: Running) -> None:
    from websockets.exceptions import ConnectionClosed

    token = await issue(service, "a9", "agent")
    client = await open_client(service, token)
    assert await service.store.revoke_tokens(0.0, user="a9") == 1
    await service.hub.close_revoked()
    with pytest.raises(ConnectionClosed):
        await client.call("ping")
    with pytest.raises(AssertionError):
        await open_client(service, token)
