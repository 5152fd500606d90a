"""Schemathesis hooks for Picture's contract fuzzing (loaded by .ci/schemathesis.sh through
SCHEMATHESIS_HOOKS).

- POST /api/v1/generate: most generated bodies name a model that exists (ids are random per
  database, so the schema cannot list them); the rest keep the generated id and exercise 404.
- POST /api/v1/generate's Idempotency-Key header (declared as any string in the route): most
  generated keys that are not 1 to 255 visible ASCII characters, which the server refuses with
  400, are replaced by one that is.
- Paths with an id or a file key: most cases use the id of a generation (two are made when the
  hooks load, more as the run goes), of its image, or the image's stored key, so the status,
  cancel, image, like and file routes are reached beyond 404.
- Batches: a few are created when the hooks load (more from the run's own 201s), and most
  `/api/v1/batch/{id}` cases use one of them, so reading, progress, retry, cancel and delete
  reach a 2xx; most POST /api/v1/batch bodies name a model that exists and keep at most 5
  prompts (each runs on the offline renderer).
- POST /api/v1/generate/webhook: every request is signed as Replicate signs it (Standard Webhooks:
  HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{raw body}" with the base64 key after
  "whsec_", sent as "v1,<base64>") with the secret the script gives the server.
- Every response is counted by operation and status; the table, with how many cases reached a
  2xx and the most frequent 400 messages, is printed when schemathesis exits.
"""

import atexit
import base64
import hashlib
import hmac
import json
import os
import re
import time
import urllib.request
import uuid
import zlib
from collections import Counter, defaultdict

import schemathesis

BASE_URL = os.environ["PICTURE_BASE_URL"]
TOKEN = os.environ["PICTURE_TOKEN"]
WEBHOOK_SECRET = os.environ["PICTURE_WEBHOOK_SECRET"]
GENERATE = "POST /api/v1/generate"
WEBHOOK = "POST /api/v1/generate/webhook"
BATCH = "POST /api/v1/batch"
BATCH_PROMPTS_KEPT = 5
VALID_IDEMPOTENCY_KEY = re.compile(r"^[!-~]{1,255}$")

statuses: defaultdict[str, Counter] = defaultdict(Counter)
refusals: defaultdict[str, Counter] = defaultdict(Counter)
known_ids: list[str] = []
known_keys: list[str] = []
known_images: list[str] = []
known_boards: list[str] = []
known_items: list[str] = []
known_batches: list[str] = []


def _model_ids() -> list[str]:
    with urllib.request.urlopen(f"{BASE_URL}/api/v1/models", timeout=10) as answer:
        return [model["id"] for model in json.load(answer)]


MODEL_IDS = _model_ids()


def _remember(answer: dict) -> None:
    """Keeps the ids (and the stored key) of a generation `POST /generate` answered with."""
    if answer.get("generationId"):
        known_ids.append(answer["generationId"])
    image = answer.get("image") or {}
    if image.get("id"):
        known_ids.append(image["id"])
        known_images.append(image["id"])
    if image.get("storagePath"):
        known_keys.append(image["storagePath"])


def _generate(prompt: str) -> None:
    body = json.dumps({"prompt": prompt, "modelId": MODEL_IDS[0], "waitForResult": True}).encode()
    request = urllib.request.Request(
        f"{BASE_URL}/api/v1/generate",
        data=body,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        _remember(json.load(answer))


for _prompt in ("a lighthouse at dusk", "a fox in the snow"):
    _generate(_prompt)


def _post(path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{BASE_URL}/api/v1{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def _board(name: str) -> None:
    """A board with an image and a text on it, so board and board-item routes reach a 2xx."""
    board = _post("/boards", {"name": name})["id"]
    known_boards.append(board)
    image = known_images[0]
    for path, body in (
        (f"/board-items/board/{board}/image", {"imageId": image, "positionX": 10, "positionY": 20}),
        (f"/board-items/board/{board}/text", {"textContent": "hello", "positionX": 1, "positionY": 2}),
    ):
        known_items.append(_post(path, body)["id"])


# Several, as fuzzed deletes remove some of them (with their items) along the way.
for _name in ("fuzzed board", "second board", "third board", "fourth board"):
    _board(_name)


def _batch(name: str) -> None:
    """A batch of two prompts as the mobile client sends it, so batch routes reach a 2xx."""
    body = {
        "prompts": [{"text": "a teapot"}, {"text": "a kite", "seed": 7, "tags": ["sky"]}],
        "sharedSettings": {"modelId": MODEL_IDS[0], "modelVersion": "", "width": 512,
                           "height": 512, "steps": 4, "guidanceScale": 7.5},
        "batchName": name,
    }
    known_batches.append(_post("/batch", body)["id"])


# Several, as fuzzed deletes remove some of them along the way.
for _name in ("fuzzed batch", "second batch", "third batch", "fourth batch"):
    _batch(_name)


def _ids_for(path: str) -> list[str]:
    """The known ids of the resource an `{id}` in `path` names."""
    if "/batch/" in path:
        return known_batches
    if "/board-items/" in path:
        return known_items
    if "/boards/" in path:
        return known_boards
    return known_ids


def _pick(value, choices: list[str]) -> str | None:
    """A deterministic choice for `value`: one of `choices` in three cases of four, else None."""
    digest = zlib.crc32(json.dumps(value, sort_keys=True, default=str).encode())
    if not choices or digest % 4 == 0:
        return None
    return choices[digest % len(choices)]


def _label(context) -> str:
    return context.operation.label if context.operation is not None else ""


def _fix_idempotency_key(headers: dict) -> None:
    """Replaces, in three cases of four, an `Idempotency-Key` the server would refuse."""
    for name, key in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(key, str) and not VALID_IDEMPOTENCY_KEY.match(key):
            if _pick(key, ["valid"]) is not None:
                headers[name] = f"key-{zlib.crc32(key.encode()):08x}"


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    if isinstance(path_parameters, dict):
        path = context.operation.path if context.operation is not None else ""
        for name, known in (
            ("id", _ids_for(path)),
            ("key", known_keys),
            ("boardId", known_boards),
            ("imageId", known_images),
        ):
            if name in path_parameters:
                chosen = _pick(path_parameters, known)
                if chosen is not None:
                    path_parameters[name] = chosen
    return path_parameters


def sign(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The `webhook-signature` header Replicate sends for `body`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = webhook_id.encode() + b"." + timestamp.encode() + b"." + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _fix_batch(case) -> None:
    """In three cases of four, a batch body with a model that exists and at most
    `BATCH_PROMPTS_KEPT` prompts."""
    body = case.body
    if not isinstance(body, dict) or _pick(body, ["fix"]) is None:
        return
    shared = body.get("sharedSettings")
    if isinstance(shared, dict):
        body = {**body, "sharedSettings": {**shared, "modelId": _pick(shared, MODEL_IDS) or MODEL_IDS[0]}}
    prompts = body.get("prompts")
    if isinstance(prompts, list) and len(prompts) > BATCH_PROMPTS_KEPT:
        body = {**body, "prompts": prompts[:BATCH_PROMPTS_KEPT]}
    case.body = body


@schemathesis.hook
def before_call(context, case, kwargs):
    # Here rather than in map_* hooks, which the coverage phase does not run.
    if _label(context) == GENERATE:
        if case.headers:
            headers = dict(case.headers)
            _fix_idempotency_key(headers)
            case.headers = headers
        if isinstance(case.body, dict):
            model = _pick(case.body, MODEL_IDS)
            if model is not None:
                case.body = {**case.body, "modelId": model}
    if _label(context) == BATCH:
        _fix_batch(case)
    if _label(context) != WEBHOOK:
        return
    body = case.body
    if body is None or type(body).__name__ == "NotSet":
        body = b""
    elif isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = json.dumps(body, default=str).encode()
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
    if response.status_code not in (201, 400):
        return
    try:
        answer = json.loads(response.content)
    except ValueError:
        return
    if not isinstance(answer, dict):
        return
    if response.status_code == 400:
        messages = answer.get("message")
        for message in messages if isinstance(messages, list) else [messages]:
            refusals[label][str(message)[:80]] += 1
    elif label == GENERATE:
        _remember(answer)
    elif label == BATCH and answer.get("id"):
        known_batches.append(answer["id"])


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
    print("\nMost frequent 400 messages per operation:")
    for label in sorted(refusals):
        top = "; ".join(f"{n}× {message}" for message, n in refusals[label].most_common(3))
        print(f"  {label}: {top}")
