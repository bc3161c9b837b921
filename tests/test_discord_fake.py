"""The fake itself: it must refuse what real Discord would refuse, or the other tests prove
nothing."""

from __future__ import annotations

import aiohttp

from tests.discord_support import TOKEN, requires_spec, running_fake
from tests.fakes_discord import GatewayTables, OpenApiSpec

pytestmark = requires_spec

AUTH = {"Authorization": f"Bot {TOKEN}"}


async def test_requests_outside_the_spec_or_missing_fields_are_rejected() -> None:
    async with running_fake() as fake, aiohttp.ClientSession(headers=AUTH) as http:
        unknown = await http.post(f"{fake.api_url}/channels/1/nonsense", json={})
        wrong_method = await http.delete(f"{fake.api_url}/gateway/bot")
        no_type = await http.post(f"{fake.api_url}/interactions/1/t/callback", json={"data": {}})
        bad_enum = await http.post(f"{fake.api_url}/interactions/1/t/callback", json={"type": 99})
        too_long = await http.post(
            f"{fake.api_url}/channels/1/messages", json={"content": "x" * 4001}
        )
        fine = await http.post(f"{fake.api_url}/channels/1/typing")

    assert [r.status for r in (unknown, wrong_method, no_type, bad_enum, too_long)] == [
        404,
        404,
        400,
        400,
        400,
    ]
    assert fine.status == 204
    assert len(fake.rejected) == 5
    assert [r.template for r in fake.requests] == ["/channels/{channel_id}/typing"]


def test_spec_prefers_literal_segments_and_checks_nested_required_fields() -> None:
    spec = OpenApiSpec.load()
    route = spec.route("GET", "/users/@me")
    assert route is not None and route[0] == "/users/@me"
    put = spec.route("PUT", "/applications/1/commands")
    assert put is not None
    assert spec.body_problems(put[1], [{"description": "no name"}]) != []
    assert spec.body_problems(put[1], [{"name": "help", "description": "d"}]) == []


def test_gateway_tables_name_the_events_and_opcodes_the_fake_uses() -> None:
    tables = GatewayTables.load()
    assert {"READY", "GUILD_CREATE", "MESSAGE_CREATE", "INTERACTION_CREATE", "RESUMED"} <= (
        tables.events
    )
    assert {1, 2, 6} <= tables.client_ops and {0, 7, 9, 10, 11} <= tables.server_ops
    assert {"token", "properties", "intents"} <= tables.required("Identify Structure")
