"""A fake Discord for discord.py over real loopback sockets: REST API and gateway websocket.

The REST side accepts only what `../shared/data/discord/openapi.json` declares (path, method,
required body fields, types and enums); the gateway side speaks the opcodes and payloads of
`discord_gateway_tables.json` and rejects what the client sends outside them. Everything
accepted is recorded; tests await records through `wait_for` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "discord"
API_PREFIX = "/api/v10"
BOT_ID = 900000000000000001
APP_ID = BOT_ID
HEARTBEAT_MS = 41250

Json = dict[str, Any]


class OpenApiSpec:
    """Path, method and request-body checks against Discord's OpenAPI document."""

    def __init__(self, document: Json) -> None:
        self._schemas: Json = document["components"]["schemas"]
        self._routes: list[tuple[str, re.Pattern[str], str, Json]] = []
        for template, item in document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$")
            for method, operation in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    self._routes.append((method.upper(), pattern, template, operation))
        # Literal segments win over parameters (/users/@me before /users/{user_id}).
        self._routes.sort(key=lambda route: route[2].count("{"))

    @classmethod
    def load(cls) -> OpenApiSpec:
        return cls(json.loads((DATA_DIR / "openapi.json").read_text()))

    def route(self, method: str, path: str) -> tuple[str, Json] | None:
        for route_method, pattern, template, operation in self._routes:
            if route_method == method and pattern.match(path):
                return template, operation
        return None

    def body_problems(self, operation: Json, body: Any) -> list[str]:
        content = operation.get("requestBody", {}).get("content", {})
        if not content:
            return []
        schema = content.get("application/json") or next(iter(content.values()))
        return self.problems(schema["schema"], body, "body")

    def problems(self, schema: Json, value: Any, where: str) -> list[str]:
        """What is wrong with `value` under `schema` (a JSON-schema subset: $ref, allOf,
        anyOf/oneOf, type, enum, required, properties, items, maxLength)."""
        if "$ref" in schema:
            return self.problems(self._schemas[schema["$ref"].rsplit("/", 1)[1]], value, where)
        found = [p for sub in schema.get("allOf", []) for p in self.problems(sub, value, where)]
        for union in ("anyOf", "oneOf"):
            options = schema.get(union)
            if options and all(self.problems(o, value, where) for o in options):
                found.append(f"{where}: matches none of the {len(options)} allowed shapes")
        if not _type_ok(schema, value):
            return [*found, f"{where}: {type(value).__name__} is not {schema.get('type')}"]
        if "enum" in schema and value not in schema["enum"]:
            found.append(f"{where}: {value!r} not in {schema['enum']}")
        if isinstance(value, dict):
            found += [
                f"{where}.{k}: required" for k in schema.get("required", []) if k not in value
            ]
            props = schema.get("properties", {})
            for key, item in value.items():
                if key in props:
                    found += self.problems(props[key], item, f"{where}.{key}")
        elif isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                found += self.problems(schema["items"], item, f"{where}[{index}]")
        elif isinstance(value, str) and len(value) > schema.get("maxLength", len(value)):
            found.append(f"{where}: longer than {schema['maxLength']}")
        return found


def _type_ok(schema: Json, value: Any) -> bool:
    declared = schema.get("type")
    if declared is None:
        return True
    kinds = {declared} if isinstance(declared, str) else set(declared)
    if schema.get("format") == "snowflake" and isinstance(value, int):
        return True  # Discord accepts snowflakes as integers too
    checks: dict[str, Callable[[Any], bool]] = {
        "null": lambda v: v is None,
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    return any(checks[kind](value) for kind in kinds if kind in checks)


class GatewayTables:
    """The gateway's opcodes, events and required payload fields, from the docs' tables."""

    def __init__(self, document: Json) -> None:
        tables = document["tables"]
        codes = tables["opcodes-and-status-codes.mdx"]["Gateway Opcodes"]["rows"]
        self.client_ops = {int(r["Code"]) for r in codes if "Send" in r["Client Action"]}
        self.server_ops = {int(r["Code"]) for r in codes if "Receive" in r["Client Action"]}
        events = tables["gateway-events.mdx"]
        self.events = {
            re.sub(r"\W+", "_", re.sub(r"^\[(.+?)\].*$", r"\1", r["Name"])).upper()
            for r in events["Receive Events"]["rows"]
        }
        self._events = events

    @classmethod
    def load(cls) -> GatewayTables:
        return cls(json.loads((DATA_DIR / "discord_gateway_tables.json").read_text()))

    def required(self, table: str) -> set[str]:
        """Fields of a docs table that are not optional (no trailing "?")."""
        return {r["Field"] for r in self._events[table]["rows"] if not r["Field"].endswith("?")}


@dataclass
class Recorded:
    method: str
    template: str
    path: str
    body: Any
    files: list[str] = field(default_factory=list)


class FakeDiscord:
    """REST API under /api/v10 and the gateway at /gateway, on one loopback server."""

    def __init__(self, token: str, guilds: list[Json] | None = None) -> None:
        self.spec = OpenApiSpec.load()
        self.tables = GatewayTables.load()
        self.token = token
        self.guilds = guilds or []
        self.requests: list[Recorded] = []
        self.rejected: list[str] = []
        self.limited: list[str] = []
        self.gateway_ops: list[Json] = []
        self.messages: dict[int, Json] = {}
        self.interactions: dict[int, Json] = {}
        self.originals: dict[str, int] = {}
        self.sessions = 0
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self._rate_limits: dict[tuple[str, str], float] = {}
        self._socket: web.WebSocketResponse | None = None
        self._session_id = ""
        self._seq = 0
        self._sent: list[Json] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def new_id(self) -> int:
        return next(self._ids)

    # -- awaiting records ----------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[], bool], limit_s: float = 10.0) -> None:
        """Until `predicate()` holds (checked on every record); fails after `limit_s`."""
        async with asyncio.timeout(limit_s), self._changed:
            await self._changed.wait_for(predicate)

    def sent(self, method: str, template: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.template == template]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- REST ----------------------------------------------------------------------------
    def rate_limit_once(self, method: str, template: str, retry_after: float) -> None:
        self._rate_limits[(method, template)] = retry_after

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.path[len(API_PREFIX) :]
        found = self.spec.route(request.method, path)
        if found is None:
            return await self._reject(f"{request.method} {path}: not in the OpenAPI spec", 404)
        template, operation = found
        token_route = template.startswith(("/interactions/", "/webhooks/"))  # token in the path
        if not token_route and request.headers.get("Authorization") != f"Bot {self.token}":
            return await self._reject(f"{request.method} {path}: bad Authorization", 401)
        body, files = await _read_body(request)
        problems = self.spec.body_problems(operation, body) if body is not None else []
        if problems:
            return await self._reject(f"{request.method} {template}: {problems}", 400)
        retry_after = self._rate_limits.pop((request.method, template), None)
        if retry_after is not None:
            self.limited.append(f"{request.method} {template}")
            payload = {"message": "You are being rate limited.", "retry_after": retry_after}
            return _json({**payload, "global": False}, status=429, headers={"Via": "1.1 google"})
        self.requests.append(Recorded(request.method, template, path, body, files))
        await self._notify()
        return self._respond(request.method, template, path.split("/"), body)

    async def _reject(self, why: str, status: int) -> web.Response:
        self.rejected.append(why)
        await self._notify()
        return _json({"code": 0, "message": why}, status=status)

    def _respond(self, method: str, template: str, parts: list[str], body: Any) -> web.Response:
        key = f"{method} {template}"
        if key == "GET /gateway/bot":
            limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})
        if key == "GET /users/@me":
            return _json(bot_user())
        if key == "GET /oauth2/applications/@me":
            return _json(application())
        if key in {
            "PUT /applications/{application_id}/commands",
            "PUT /applications/{application_id}/guilds/{guild_id}/commands",
        }:
            return _json([_command_object(c) for c in body])
        if key == "POST /users/@me/channels":
            user = user_object(int(body["recipient_id"]), "someone")
            return _json({"id": str(self.new_id()), "type": 1, "recipients": [user]})
        if key in {
            "POST /channels/{channel_id}/messages",
            "POST /webhooks/{webhook_id}/{webhook_token}",
        }:
            channel = parts[2] if parts[1] == "channels" else "0"
            return _json(self._store(self.new_id(), channel, body))
        if key == "PATCH /channels/{channel_id}/messages/{message_id}":
            return _json(self._store(int(parts[4]), parts[2], body))
        if key == "POST /interactions/{interaction_id}/{interaction_token}/callback":
            return _json(self._callback(int(parts[2]), body))
        if key.startswith("PATCH /webhooks/{webhook_id}/{webhook_token}/messages/"):
            original = self.originals.get(parts[3], self.new_id())
            return _json(self._store(original, "0", body))
        return web.Response(status=204)

    def _callback(self, interaction_id: int, body: Json) -> Json:
        """The answer to an interaction callback, as Discord gives it with `with_response`."""
        interaction = self.interactions[interaction_id]
        kind, data = body["type"], body.get("data") or {}
        channel = interaction["channel_id"]
        message_id = int(interaction["message"]["id"]) if kind == 7 else self.new_id()
        self.originals[interaction["token"]] = message_id
        message = self._store(message_id, channel, data)
        return {
            "interaction": {
                "id": str(interaction_id),
                "type": interaction["type"],
                "response_message_id": str(message_id),
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & 64),
            },
            "resource": {"type": kind, "message": message},
        }

    def _store(self, message_id: int, channel_id: str, body: Json) -> Json:
        stored = self.messages.get(message_id) or message_object(
            message_id, int(channel_id), bot_user(), ""
        )
        stored.update({k: v for k, v in body.items() if k in {"content", "components"}})
        self.messages[message_id] = stored
        return stored

    # -- gateway -------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await self._send_op(socket, 10, {"heartbeat_interval": HEARTBEAT_MS})
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                break
            payload = json.loads(frame.data)
            await self._on_client_payload(socket, payload)
        if self._socket is socket:
            self._socket = None
        return socket

    async def _on_client_payload(self, socket: web.WebSocketResponse, payload: Json) -> None:
        op = payload.get("op")
        if not {"op", "d"} <= payload.keys() or op not in self.tables.client_ops:
            self.rejected.append(f"gateway: bad payload {payload!r}")
            await socket.close(code=4001)
        elif op == 1:
            await self._send_op(socket, 11, None)
        elif op == 2:
            await self._identify(socket, payload["d"])
        elif op == 6:
            await self._resume(socket, payload["d"])
        self.gateway_ops.append(payload)
        await self._notify()

    async def _identify(self, socket: web.WebSocketResponse, data: Json) -> None:
        missing = self.tables.required("Identify Structure") - data.keys()
        missing |= (
            self.tables.required("Identify Connection Properties") - data["properties"].keys()
        )
        if missing or data["token"] != self.token:
            self.rejected.append(f"gateway: bad IDENTIFY, missing {sorted(missing)}")
            await socket.close(code=4004)
            return
        self.sessions += 1
        self._session_id = f"session-{self.sessions}"
        self._seq, self._sent = 0, []
        ready = {
            "v": 10,
            "user": bot_user(),
            "guilds": [{"id": g["id"], "unavailable": True} for g in self.guilds],
            "session_id": self._session_id,
            "resume_gateway_url": self.gateway_url,
            "shard": data.get("shard", [0, 1]),
            "application": {"id": str(APP_ID), "flags": 0},
        }
        await self.dispatch("READY", ready, required="Ready Event Fields")
        for guild in self.guilds:
            await self.dispatch("GUILD_CREATE", guild, required="Guild Create Extra Fields")

    async def _resume(self, socket: web.WebSocketResponse, data: Json) -> None:
        missing = self.tables.required("Resume Structure") - data.keys()
        if missing or data["session_id"] != self._session_id:
            await self._send_op(socket, 9, False)
            return
        for payload in self._sent:
            if payload["s"] > data["seq"]:
                await socket.send_str(json.dumps(payload))
        await self.dispatch("RESUMED", {})

    async def dispatch(self, event: str, data: Json, required: str | None = None) -> None:
        """Send a dispatch (op 0) to the connected client; kept for replay on RESUME."""
        if event not in self.tables.events:
            raise AssertionError(f"{event} is not a gateway receive event")
        if required is not None and (missing := self.tables.required(required) - data.keys()):
            raise AssertionError(f"the fake's {event} lacks {sorted(missing)}")
        self._seq += 1
        payload = {"op": 0, "d": data, "s": self._seq, "t": event}
        self._sent.append(payload)
        if self._socket is not None and not self._socket.closed:
            await self._socket.send_str(json.dumps(payload))

    async def interact(self, interaction: Json) -> None:
        """Dispatch an INTERACTION_CREATE, remembered so its callbacks can be answered."""
        self.interactions[int(interaction["id"])] = interaction
        await self.dispatch("INTERACTION_CREATE", interaction)

    async def request_reconnect(self) -> None:
        """Op 7: the client should reconnect and resume."""
        if self._socket is not None:
            await self._send_op(self._socket, 7, None)

    async def drop_connection(self) -> None:
        """Close the websocket as a failing gateway would (resumable close code); events
        dispatched until the client resumes are replayed to it then."""
        socket, self._socket = self._socket, None
        if socket is not None:
            await socket.close(code=4000)

    async def _send_op(self, socket: web.WebSocketResponse, op: int, data: Any) -> None:
        assert op in self.tables.server_ops, op
        await socket.send_str(json.dumps({"op": op, "d": data, "s": None, "t": None}))


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with a bare "application/json" content type: discord.py compares it exactly."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


async def _read_body(request: web.Request) -> tuple[Any, list[str]]:
    if request.content_type == "multipart/form-data":
        body: Any = None
        files: list[str] = []
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                files.append(part.filename or "")
                await part.read()
        return body, files
    if request.can_read_body:
        return await request.json(), []
    return None, []


def _command_object(command: Json) -> Json:
    return {
        "id": str(abs(hash(command["name"])) % 10**18 + 1),
        "application_id": str(APP_ID),
        "version": "1",
        "type": command.get("type", 1),
        "default_member_permissions": None,
        "description": "",
        **command,
    }


def user_object(user_id: int, name: str, bot: bool = False) -> Json:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


def bot_user() -> Json:
    return user_object(BOT_ID, "attune", bot=True)


def application() -> Json:
    return {
        "id": str(APP_ID),
        "name": "attune",
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": user_object(1, "owner"),
        "verify_key": "0" * 64,
        "flags": 0,
        "team": None,
        "summary": "",
    }


def message_object(
    message_id: int, channel_id: int, author: Json, content: str, **extra: Any
) -> Json:
    return {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "components": [],
        "flags": 0,
        **extra,
    }
