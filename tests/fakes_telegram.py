"""A fake Telegram Bot API server (aiohttp) that checks every request against the spec.

It speaks the real wire format python-telegram-bot uses (form fields or multipart, JSON-encoded
objects), rejects with a Bot API error (HTTP 400) any method the spec does not know, a missing
required parameter, a wrong type (recursively through objects such as InlineKeyboardMarkup)
and over-long texts, and records every accepted request so tests can await them. Faults can
be injected: 429 with retry_after, 502, and going away / coming back on the same port.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

SPEC_PATH = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "telegram" / "api.json"
)
BOT_ID = 777000
BOT_USERNAME = "attune_test_bot"
TOKEN = "777000:TEST-token_for-the-fake"
_INTEGER = re.compile(r"-?\d+")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_TEXT_LIMITS = {"text": 4096, "caption": 1024}
_ANSWER_TEXT_LIMIT = 200
WAIT_S = 20.0
_CALLBACK_DATA_BYTES = 64


class SpecError(Exception):
    """A request the real Bot API would refuse with 400 Bad Request."""


class StateError(Exception):
    """A valid request the server refuses for the state it is in (e.g. nothing to edit)."""


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    result: Any
    at: float = field(default_factory=time.perf_counter)
    """When the server accepted it (perf_counter), for latency figures."""


@dataclass(slots=True)
class Fault:
    method: str
    status: int
    chat_id: str | None
    times: int
    retry_after: int = 0


class BotApiSpec:
    """The methods and types of api.json, and a recursive check of values against them."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        self.version: str = raw["version"]
        self._methods: dict[str, Any] = raw["methods"]
        self._types: dict[str, Any] = raw["types"]

    def check_call(
        self, method: str, params: Mapping[str, Any], files: Mapping[str, bytes]
    ) -> None:
        spec = self._methods.get(method)
        if spec is None:
            raise SpecError(f"Bad Request: method {method!r} is not in {self.version}")
        self._check_fields(method, spec.get("fields", []), params, files)

    def _check_fields(
        self,
        where: str,
        fields: list[dict[str, Any]],
        values: Mapping[str, Any],
        files: Mapping[str, bytes],
    ) -> None:
        known = {f["name"]: f for f in fields}
        for name in list(values) + list(files):
            if name not in known:
                raise SpecError(f"Bad Request: {where} has no parameter {name!r}")
        for spec_field in fields:
            name = spec_field["name"]
            if name in files:
                if "InputFile" not in spec_field["types"]:
                    raise SpecError(f"Bad Request: {where}.{name} cannot be a file")
                continue
            if name not in values:
                if spec_field["required"]:
                    raise SpecError(f"Bad Request: {where}.{name} is required")
                continue
            if not any(self._matches(t, values[name], files) for t in spec_field["types"]):
                raise SpecError(f"Bad Request: {where}.{name} has a wrong type")

    def _matches(self, type_name: str, value: Any, files: Mapping[str, bytes]) -> bool:
        if type_name.startswith("Array of "):
            items = _json_value(value)
            inner = type_name.removeprefix("Array of ")
            return isinstance(items, list) and all(self._matches(inner, i, files) for i in items)
        if type_name == "Integer":
            return (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, str) and _INTEGER.fullmatch(value) is not None
            )
        if type_name == "Float":
            number = _json_value(value)
            return isinstance(number, int | float) and not isinstance(number, bool)
        if type_name == "Boolean":
            return isinstance(value, bool) or value in ("true", "false")
        if type_name == "String":
            return isinstance(value, str)
        if type_name == "InputFile":
            return isinstance(value, str) and value.removeprefix("attach://") in files
        return self._matches_object(type_name, _json_value(value), files)

    def _matches_object(self, type_name: str, value: Any, files: Mapping[str, bytes]) -> bool:
        spec = self._types.get(type_name)
        if spec is None or not isinstance(value, dict):
            return False
        if "subtypes" in spec:
            return any(self._matches_object(sub, value, files) for sub in spec["subtypes"])
        try:
            self._check_fields(type_name, spec.get("fields", []), value, {})
        except SpecError:
            return False
        return True


def _json_value(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None


def _check_limits(method: str, params: Mapping[str, Any]) -> None:
    """The length rules the spec states in prose, for what the adapter sends."""
    for name, limit in _TEXT_LIMITS.items():
        if isinstance(params.get(name), str) and method != "answerCallbackQuery":
            if len(params[name]) > limit:
                raise SpecError(f"Bad Request: {name} is too long")
            if name == "text" and not params[name].strip():
                raise SpecError("Bad Request: message text is empty")
    if method == "answerCallbackQuery" and len(params.get("text", "")) > _ANSWER_TEXT_LIMIT:
        raise SpecError("Bad Request: callback answer text is too long")
    secret = params.get("secret_token")
    if method == "setWebhook" and secret is not None and not _SECRET.fullmatch(secret):
        raise SpecError("Bad Request: secret token contains unallowed characters")
    if method == "setMyCommands":
        for command in _json_value(params["commands"]):
            if not _COMMAND.fullmatch(command["command"]):
                raise SpecError("Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise SpecError("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
    markup = _json_value(params.get("reply_markup", "{}")) or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= _CALLBACK_DATA_BYTES:
                raise SpecError("Bad Request: BUTTON_DATA_INVALID")


def user(user_id: int, first_name: str = "User", *, is_bot: bool = False) -> dict[str, Any]:
    return {"id": user_id, "is_bot": is_bot, "first_name": first_name}


def private_chat(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "User"}


def group_chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": "Group"}


class FakeBotApi:
    """The fake server. `push` queues updates for getUpdates; `calls` holds accepted requests."""

    def __init__(self, spec: BotApiSpec, *, token: str = TOKEN, wait_s: float = WAIT_S) -> None:
        self.spec = spec
        self.wait_s = wait_s
        self.token = token
        self.calls: list[Call] = []
        self.counts: Counter[str] = Counter()
        self.rejected: list[tuple[str, str]] = []
        self.refused: list[tuple[str, str]] = []
        self.faults: list[Fault] = []
        self.port = 0
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._messages: dict[tuple[str, int], dict[str, Any]] = {}
        self._chats: dict[str, dict[str, Any]] = {}
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True, backlog=1024)
        await site.start()
        if not self.port:
            self.port = self._runner.addresses[0][1]
        self._closing = False

    async def stop(self) -> None:
        """Go away: long polls return at once, then the port closes until `start`."""
        self._closing = True
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- what tests drive -------------------------------------------------------------
    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **update}
        for message in (update.get("message"), update.get("edited_message")):
            if message:
                self._chats[str(message["chat"]["id"])] = message["chat"]
        self._updates.append(update)
        await self._notify()
        return update

    async def push_text(
        self,
        from_user: dict[str, Any],
        text: str,
        *,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        kind: str = "message",
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat or private_chat(from_user["id"]),
            "from": from_user,
            "text": text,
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if entities:
            message["entities"] = entities
        return await self.push({kind: message})

    async def push_callback(
        self, from_user: dict[str, Any], message: dict[str, Any], data: str
    ) -> dict[str, Any]:
        query = {
            "id": str(next(self._message_ids)),
            "from": from_user,
            "chat_instance": "ci",
            "message": message,
            "data": data,
        }
        return await self.push({"callback_query": query})

    def fail(
        self,
        method: str,
        status: int,
        *,
        chat_id: int | None = None,
        times: int = 1,
        retry_after: int = 0,
    ) -> None:
        chat = None if chat_id is None else str(chat_id)
        self.faults.append(Fault(method, status, chat, times, retry_after))

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any]:
        """A message the bot sent, as the server holds it now (edits applied)."""
        return self._messages[(str(chat_id), message_id)]

    def of(self, method: str, **params: Any) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method
            and all(str(c.params.get(k)) == str(v) for k, v in params.items())
        ]

    async def wait_for(self, predicate: Callable[[FakeBotApi], bool]) -> None:
        """Until `predicate` holds; a stuck test fails after `wait_s` instead of hanging."""
        async with asyncio.timeout(self.wait_s):
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self))

    async def wait_calls(self, method: str, count: int = 1, **params: Any) -> list[Call]:
        await self.wait_for(lambda api: len(api.of(method, **params)) >= count)
        return self.of(method, **params)

    # ---- the server ----------------------------------------------------------------------
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params, files = await _read_params(request)
        try:
            self.spec.check_call(method, params, files)
            _check_limits(method, params)
        except SpecError as exc:
            self.rejected.append((method, str(exc)))
            await self._notify()
            return _error(400, str(exc))
        fault = self._take_fault(method, params)
        if fault is not None:
            if fault.status == 429:
                return _error(429, "Too Many Requests", retry_after=fault.retry_after)
            return _error(fault.status, "Bad Gateway")
        if method == "getUpdates":
            self.calls.append(Call(method, params, files, None))
            return _ok(await self._get_updates(params))
        try:
            result = self._result(method, params, files)
        except StateError as exc:
            self.refused.append((method, str(exc)))
            return _error(400, str(exc))
        self.calls.append(Call(method, params, files, result))
        self.counts[method] += 1
        await self._notify()
        return _ok(result)

    def _take_fault(self, method: str, params: Mapping[str, Any]) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.chat_id in (None, str(params.get("chat_id"))):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    async def _get_updates(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0))
        limit = int(params.get("limit", 100))
        timeout = float(params.get("timeout", 0))
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: bool(self._updates) or self._closing)
        except TimeoutError:
            pass
        return self._updates[:limit]

    def _result(self, method: str, params: Mapping[str, Any], files: Mapping[str, bytes]) -> Any:
        if method == "getMe":
            return {**user(BOT_ID, "Attune", is_bot=True), "username": BOT_USERNAME}
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method in ("sendMessage", "sendPhoto", "sendDocument"):
            return self._store_message(method, params, files)
        if method == "editMessageReplyMarkup":
            return self._edit_markup(params)
        return True

    def _store_message(
        self, method: str, params: Mapping[str, Any], files: Mapping[str, bytes]
    ) -> dict[str, Any]:
        chat_id = str(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chats.get(chat_id, private_chat(int(chat_id))),
            "from": {**user(BOT_ID, "Attune", is_bot=True), "username": BOT_USERNAME},
        }
        if method == "sendMessage":
            message["text"] = params["text"]
        elif method == "sendPhoto":
            message["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
        else:
            message["document"] = {"file_id": "d", "file_unique_id": "d"}
        if "reply_markup" in params:
            message["reply_markup"] = _json_value(params["reply_markup"])
        self._messages[(chat_id, message["message_id"])] = message
        return message

    def _edit_markup(self, params: Mapping[str, Any]) -> dict[str, Any]:
        key = (str(params.get("chat_id")), int(params.get("message_id", 0)))
        message = self._messages.get(key)
        if message is None:
            raise StateError("Bad Request: message to edit not found")
        markup = _json_value(params.get("reply_markup", "null"))
        if markup == message.get("reply_markup"):
            raise StateError("Bad Request: message is not modified")
        message["reply_markup"] = markup
        return message


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    if request.content_type == "application/json":
        body = await request.json()
        return dict(body), {}
    form = await request.post()
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for name, value in form.items():
        if isinstance(value, str):
            params[name] = value
        elif isinstance(value, web.FileField):
            files[name] = value.file.read()
        else:
            params[name] = bytes(value).decode()
    params.update({k: v for k, v in request.query.items() if k not in params})
    return params, files


def _body(status: int, description: str, **parameters: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _error(status: int, description: str, **parameters: Any) -> web.Response:
    return web.json_response(_body(status, description, **parameters), status=status)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})
