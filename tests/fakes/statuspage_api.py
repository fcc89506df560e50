"""A fake Statuspage.io management API on 127.0.0.1, for tocsin's Statuspage sender.

Built on :class:`fakes.http_fake.FakeServer`. Every request is checked against Atlassian's OpenAPI
description (``tests/fixtures/statuspage/statuspage_openapi3.json``): an unknown path or method
answers 404, a body with a field the schema does not name, a missing required field, a value of
the wrong type or outside its ``enum`` answers 400; each is recorded in
:attr:`FakeStatuspage.violations` so a test can assert there were none. ``Authorization: OAuth
<key>`` is required (401 otherwise). The spec writes ``incident.components`` as a map with one
example key; it is checked as a map of component id -> status.

State is kept as Statuspage keeps it: incidents with their ``incident_updates`` (a new update
when a body is given or the status changes), ``metadata``, affected components, and component
statuses changed through ``incident.components``. Limits and failures are scriptable::

    sp.strict_rate(1.0)                      # more than 1 request/s: 420 with Retry-After
    sp.fail("POST", "/pages/{page_id}/incidents", 429, headers={"Retry-After": "1"})
    sp.fail("PATCH", "/pages/{page_id}/incidents/{incident_id}", 401, count=100)
    sp.drop_after("POST", "/pages/{page_id}/incidents")   # apply, then answer 503
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from fakes import FIXTURES
from fakes.http_fake import FakeServer, Reply, Request
from fakes.statuspage_state import apply, now_iso

SPEC_FILE = FIXTURES / "statuspage" / "statuspage_openapi3.json"
API_KEY = "sp-fake-api-key"
PAGE_ID = "pgfake0001"
BASE = "/v1"
_TYPES: dict[str, Any] = {
    "string": str,
    "boolean": bool,
    "object": dict,
    "array": list,
    "integer": int,
    "number": (int, float),
}


@functools.cache
def spec() -> dict[str, Any]:
    return dict(json.loads(SPEC_FILE.read_text()))


def resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        found: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


@functools.cache
def _routes() -> list[tuple[str, re.Pattern[str], str]]:
    found = []
    for template, operations in spec()["paths"].items():
        parts = [re.escape(p) for p in re.split(r"\{[^}]+\}", template)]
        pattern = re.compile("^" + "[^/]+".join(parts) + "(?:\\.json)?$")
        for method in operations:
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((method.upper(), pattern, template))
    return sorted(found, key=lambda r: r[2].count("{"))  # literal segments first


def match(method: str, path: str) -> str | None:
    """The spec's path template for ``method path``, or None when Statuspage has no such call."""
    return next((t for m, p, t in _routes() if m == method and p.match(path)), None)


def check(schema: Mapping[str, Any], value: Any, where: str) -> list[str]:
    """Problems of ``value`` against ``schema`` (types, enum, required, unknown fields, maps)."""
    schema = resolve(schema)
    kind = schema.get("type")
    if kind in _TYPES and (
        not isinstance(value, _TYPES[kind]) or (kind == "integer" and isinstance(value, bool))
    ):
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    problems: list[str] = []
    if kind == "array":
        for index, item in enumerate(value):
            problems += check(schema.get("items", {}), item, f"{where}[{index}]")
    if kind == "object" and isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        if str(schema.get("description", "")).startswith("Map of"):  # id -> value map
            inner = next(iter(props.values()))
            for key, item in value.items():
                problems += check(inner, item, f"{where}.{key}")
            return problems
        for name in schema.get("required", ()):
            if name not in value:
                problems.append(f"{where}.{name}: required")
        for name, item in value.items():
            if name not in props:
                problems.append(f"{where}.{name}: not a field of this request")
            else:
                problems += check(props[name], item, f"{where}.{name}")
    return problems


def check_request(method: str, template: str, body: Any) -> list[str]:
    operation = spec()["paths"][template][method.lower()]
    request_body = operation.get("requestBody")
    if request_body is None:
        return [] if body is None else [f"{method} {template} takes no body"]
    request_body = resolve(request_body)
    if body is None:
        return [f"{method} {template}: a body is required"] if request_body.get("required") else []
    schema = request_body["content"]["application/json"]["schema"]
    return check(schema, body, "body")


class FakeStatuspage:
    def __init__(self, api_key: str = API_KEY, page_id: str = PAGE_ID) -> None:
        self.api_key = api_key
        self.page_id = page_id
        self.server = FakeServer(default=self._handle)
        self.incidents: dict[str, dict[str, Any]] = {}
        self.components: dict[str, dict[str, Any]] = {}
        self.violations: list[str] = []
        self.calls: list[tuple[str, str, float]] = []  # (method, template, monotonic time)
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._failures: dict[tuple[str, str], list[Reply]] = {}
        self._drop: set[tuple[str, str]] = set()
        self._min_interval = 0.0
        self._last = float("-inf")

    # --- programming --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"{self.server.url}{BASE}"

    def add_component(self, name: str, status: str = "operational") -> str:
        with self._lock:
            component_id = self._new_id("c")
            self.components[component_id] = {
                "id": component_id, "page_id": self.page_id, "name": name, "status": status,
                "description": None, "group": False, "position": len(self.components) + 1,
                "created_at": now_iso(), "updated_at": now_iso(),
            }  # fmt: skip
            return component_id

    def strict_rate(self, per_second: float) -> None:
        """Answer 420 (Retry-After: 1) to a request closer than 1/per_second to the last one."""
        self._min_interval = 1.0 / per_second

    def fail(
        self,
        method: str,
        template: str,
        status: int,
        *,
        count: int = 1,
        headers: dict[str, str] | None = None,
        message: str = "failed on purpose",
    ) -> None:
        reply = Reply(status, json={"message": message}, headers=headers or {})
        with self._lock:
            self._failures.setdefault((method, template), []).extend([reply] * count)

    def drop_after(self, method: str, template: str) -> None:
        """The next such call is applied but answered 503, as if the answer were lost."""
        with self._lock:
            self._drop.add((method, template))

    def calls_to(self, method: str, template: str) -> list[float]:
        with self._lock:
            return [at for m, t, at in self.calls if m == method and t == template]

    def status_of(self, name: str) -> str:
        with self._lock:
            return next(c["status"] for c in self.components.values() if c["name"] == name)

    def start(self) -> FakeStatuspage:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeStatuspage:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- serving ------------------------------------------------------------------------------
    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):011d}"

    def _handle(self, request: Request) -> Reply:
        path = request.path.removeprefix(BASE)
        template = match(request.method, path)
        with self._lock:
            if template is None or not request.path.startswith(BASE):
                self.violations.append(f"{request.method} {request.path}: no such call")
                return Reply(404, json={"message": "not found"})
            self.calls.append((request.method, template, request.at))
            refused = self._refuse(request, template)
            if refused is not None:
                return refused
            reply = self._apply(request, template)
            if (request.method, template) in self._drop:
                self._drop.discard((request.method, template))
                return Reply(503, json={"message": "the answer was lost"})
            return reply

    def _refuse(self, request: Request, template: str) -> Reply | None:
        if request.header("authorization") != f"OAuth {self.api_key}":
            return Reply(401, json={"message": "Could not authenticate"})
        if request.at - self._last < self._min_interval:
            self._last = request.at
            return Reply(420, json={"message": "Enhance your calm"}, headers={"Retry-After": "1"})
        self._last = request.at
        scripted = self._failures.get((request.method, template))
        if scripted:
            return scripted.pop(0)
        body = request.json() if request.body else None
        problems = check_request(request.method, template, body)
        if problems:
            self.violations.extend(f"{request.method} {template}: {p}" for p in problems)
            return Reply(400, json={"message": "; ".join(problems)})
        if f"/pages/{self.page_id}" not in request.path:
            return Reply(404, json={"message": "page not found"})
        return None

    def _apply(self, request: Request, template: str) -> Reply:
        return apply(self, request, template)


def wait_until(predicate: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        time.sleep(0.02)


def sender_for(fake: FakeStatuspage, rate: float = 50.0) -> Any:
    """tocsin's Statuspage sender built from settings pointing at ``fake``, paced to ``rate``
    requests a second (fast, for tests that are not about pacing)."""
    from tocsin.config import load_settings
    from tocsin.domain.policy import default_policy
    from tocsin.platforms.statuspage.sender import build_statuspage_sender

    env = {
        "TOCSIN_STATUSPAGE_API_KEY": API_KEY,
        "TOCSIN_STATUSPAGE_PAGE_ID": PAGE_ID,
        "TOCSIN_STATUSPAGE_API_URL": fake.url,
    }
    sender = build_statuspage_sender(load_settings(env, env_file=None), default_policy())
    assert sender is not None
    sender.api.bucket = type(sender.api.bucket)(rate, 1.0)
    return sender
