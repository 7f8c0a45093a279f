"""The OpenAPI 3.1 description of our /api/v2, made from the same action definitions the endpoint runs and
the docs page shows (actions.py): each form of each action is a request schema (its `action` a constant,
its required fields required) and an answer schema, read off the action's example. Every answer is HTTP
200, an error too (`{"error": "..."}`), as the protocol's clients expect; only what the endpoint refuses
before reading a request (a foreign Host, a Content-Length that is no number) and paths under /api/v2/
that are not the endpoint answer 4xx, in JSON all the same.
"""

from typing import Any

from django.utils import translation

from .actions import ACTIONS, COMMON_PARAMS, Action

ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
    "additionalProperties": False,
}


def openapi_document(*, api_url: str) -> dict[str, Any]:
    with translation.override("en"):
        requests = {_name(action, "Request"): _request(action) for action in ACTIONS}
        answers = {_name(action, "Answer"): _shape(action.example()) for action in ACTIONS}
        fields = sorted({param.name for action in ACTIONS for param in action.params})
        form = {"schema": {"oneOf": [_ref(name) for name in requests]}}
        answer = {
            "description": "The action's answer, or an error; always HTTP 200.",
            "content": {"application/json": {"schema": {"anyOf": [*map(_ref, answers), _ref("Error")]}}},
        }
        error = {"content": {"application/json": {"schema": _ref("Error")}}}
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "SMM panel API v2",
                "version": "2",
                "description": "The de-facto SMM panel API v2: one endpoint, the action named in `action`, "
                "the customer's API key in `key`. Form fields (POST) or a query string (GET).",
            },
            "servers": [{"url": api_url.removesuffix("/api/v2")}],
            "paths": {
                "/api/v2": {
                    "post": {
                        "operationId": "call",
                        "summary": "Call an action",
                        "requestBody": {
                            "required": True,
                            "content": {
                                "application/x-www-form-urlencoded": form,
                                "multipart/form-data": form,
                            },
                        },
                        "responses": {
                            "200": answer,
                            "400": {"description": "A foreign Host, or a bad Content-Length.", **error},
                        },
                    },
                    "get": {
                        "operationId": "callByQuery",
                        "summary": "Call an action with a query string",
                        "parameters": [
                            _query(name, required=name in ("key", "action"))
                            for name in ["key", "action", *fields]
                        ],
                        "responses": {"200": answer, "400": {"description": "A foreign Host.", **error}},
                    },
                }
            },
            "components": {"schemas": {**requests, **answers, "Error": ERROR}},
        }


def _name(action: Action, kind: str) -> str:
    words = f"{action.name} {action.when or ''}".replace("_", " ").split()
    return "".join(word.capitalize() for word in words) + kind


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _query(name: str, *, required: bool) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": {"type": "string"}}


def _request(action: Action) -> dict:
    properties = {
        param.name: {"type": "string", "description": str(param.description)}
        for param in (*COMMON_PARAMS, *action.params)
    }
    properties["action"] = {"const": action.name, "description": str(COMMON_PARAMS[1].description)}
    required = ["key", "action", *(param.name for param in action.params if param.required)]
    if action.when is not None and action.when not in required:
        required.append(action.when)  # the field that picks this form
    for param in action.params:
        if param.example:
            properties[param.name]["examples"] = [param.example]
    return {
        "type": "object",
        "title": str(action.title),
        "description": str(action.description),
        "properties": properties,
        "required": required,
    }


def _shape(example: Any) -> dict:
    """The JSON schema an example answer has: its objects' keys required (those every item has, in a list),
    its values typed as shown, an object keyed by ids any ids; a null may also be a string."""
    if isinstance(example, bool):
        return {"type": "boolean"}
    if isinstance(example, int):
        return {"type": "integer"}
    if isinstance(example, float):
        return {"type": "number"}
    if isinstance(example, str):
        return {"type": "string"}
    if example is None:
        return {"type": ["string", "null"]}
    if isinstance(example, list):
        if not example:
            return {"type": "array"}
        if all(isinstance(item, dict) for item in example):
            return {"type": "array", "items": _merged(example)}
        return {"type": "array", "items": {"anyOf": _distinct([_shape(item) for item in example])}}
    if isinstance(example, dict) and example and all(str(key).isdigit() for key in example):
        values = _distinct([_shape(value) for value in example.values()])  # keyed by the ids asked for
        return {
            "type": "object",
            "additionalProperties": values[0] if len(values) == 1 else {"anyOf": values},
        }
    if isinstance(example, dict):
        return _merged([example])
    raise TypeError(f"no schema for {example!r}")


# Ids a multi answer echoes as they were sent: a number when they are one, else the text (actions.echo_id).
ECHOED = {"order", "refill"}


def _merged(objects: list[dict]) -> dict:
    properties: dict[str, list[dict]] = {}
    for item in objects:
        for key, value in item.items():
            shape = _shape(value)
            if key in ECHOED and shape == {"type": "integer"}:
                shape = {"type": ["integer", "string"]}
            properties.setdefault(key, []).append(shape)
    required = [key for key in properties if all(key in item for item in objects)]
    return {
        "type": "object",
        "properties": {
            key: shapes[0] if len(_distinct(shapes)) == 1 else {"anyOf": _distinct(shapes)}
            for key, shapes in properties.items()
        },
        "required": required,
    }


def _distinct(shapes: list[dict]) -> list[dict]:
    seen: list[dict] = []
    for shape in shapes:
        if shape not in seen:
            seen.append(shape)
    return seen
