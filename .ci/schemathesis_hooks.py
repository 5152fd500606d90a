"""Schemathesis hooks for Picture's contract fuzzing (loaded by .ci/schemathesis.sh through
SCHEMATHESIS_HOOKS).

- POST /api/v1/generate: most generated bodies name a model that exists (ids are random per
  database, so the schema cannot list them); the rest keep the generated id and exercise 404.
- Paths with an id: once generations have run, most cases use the id of one of them or of its
  image, so the image, status, like and cancel routes are reached beyond 404.
- POST /api/v1/generate/webhook: every request is signed as Replicate signs it (Standard Webhooks:
  HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{raw body}" with the base64 key after
  "whsec_", sent as "v1,<base64>") with the secret the script gives the server.
- Every response is counted by operation and status; the table, with how many cases reached a
  2xx, is printed when schemathesis exits.
"""

import atexit
import base64
import hashlib
import hmac
import json
import os
import time
import urllib.request
import uuid
import zlib
from collections import Counter, defaultdict

import schemathesis

BASE_URL = os.environ["PICTURE_BASE_URL"]
WEBHOOK_SECRET = os.environ["PICTURE_WEBHOOK_SECRET"]
GENERATE = "POST /api/v1/generate"
WEBHOOK = "POST /api/v1/generate/webhook"

statuses: defaultdict[str, Counter] = defaultdict(Counter)
known_ids: list[str] = []


def _model_ids() -> list[str]:
    with urllib.request.urlopen(f"{BASE_URL}/api/v1/models", timeout=10) as answer:
        return [model["id"] for model in json.load(answer)]


MODEL_IDS = _model_ids()


def _pick(value, choices: list[str]) -> str | None:
    """A deterministic choice for `value`: one of `choices` in three cases of four, else None."""
    digest = zlib.crc32(json.dumps(value, sort_keys=True, default=str).encode())
    if not choices or digest % 4 == 0:
        return None
    return choices[digest % len(choices)]


def _label(context) -> str:
    return context.operation.label if context.operation is not None else ""


@schemathesis.hook
def map_body(context, body):
    if _label(context) == GENERATE and isinstance(body, dict):
        model = _pick(body, MODEL_IDS)
        if model is not None:
            body["modelId"] = model
    return body


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    if isinstance(path_parameters, dict) and "id" in path_parameters:
        known = _pick(path_parameters, known_ids)
        if known is not None:
            path_parameters["id"] = known
    return path_parameters


def sign(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The `webhook-signature` header Replicate sends for `body`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = webhook_id.encode() + b"." + timestamp.encode() + b"." + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@schemathesis.hook
def before_call(context, case, kwargs):
    if _label(context) != WEBHOOK:
        return
    body = b"" if case.body is None or type(case.body).__name__ == "NotSet" else json.dumps(case.body).encode()
    kwargs["data"] = body
    webhook_id = f"msg_{uuid.uuid4().hex}"
    timestamp = str(int(time.time()))
    headers = dict(case.headers or {})
    headers["webhook-id"] = webhook_id
    headers["webhook-timestamp"] = timestamp
    headers["webhook-signature"] = sign(WEBHOOK_SECRET, webhook_id, timestamp, body)
    headers["Content-Type"] = "application/json"
    case.headers = headers


@schemathesis.hook
def after_call(context, case, response):
    label = _label(context)
    statuses[label][response.status_code] += 1
    if label == GENERATE and response.status_code == 201:
        try:
            answer = json.loads(response.content)
        except ValueError:
            return
        known_ids.append(answer.get("generationId", ""))
        image = answer.get("image") or {}
        if image.get("id"):
            known_ids.append(image["id"])


@atexit.register
def report() -> None:
    if not statuses:
        return
    width = max(len(label) for label in statuses)
    print("\nResponses per operation (cases that reached a 2xx / all cases; by status):")
    for label in sorted(statuses):
        counts = statuses[label]
        ok = sum(n for status, n in counts.items() if 200 <= status < 300)
        detail = ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
        print(f"  {label:<{width}}  {ok:>4} / {sum(counts.values()):<4}  ({detail})")
