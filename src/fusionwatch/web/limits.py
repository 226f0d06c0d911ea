"""Bounded requests: a body-size limit and no NUL characters, checked as the bytes arrive.

A pure ASGI middleware. A declared Content-Length over the limit is refused before anything is
read; a streamed body is counted chunk by chunk and refused (413) as soon as it passes the
limit, so a 100 MB body never sits in memory. NUL characters (raw, %00 or the JSON escape) are
refused with 422: no text field accepts them and PostgreSQL cannot store them.
"""

import json
import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fusionwatch.cdshooks.service import CdsHooksError

NUL = re.compile(rb"\x00|%00|\\u0000", re.IGNORECASE)
SCANNED_TYPES = (b"application/json", b"application/x-www-form-urlencoded", b"text/")
TAIL = 6  # the longest NUL spelling, so one split across two chunks is still found


class BoundedRequests:
    def __init__(self, app: ASGIApp, *, max_body: int, max_cds_body: int) -> None:
        self.app, self.max_body, self.max_cds_body = app, max_body, max_cds_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self.max_cds_body if path.startswith("/cds-services") else self.max_body
        headers = dict(scope.get("headers", []))
        if NUL.search(scope.get("query_string", b"")) or "\x00" in path:
            await _refuse(send, path, 422, "Text must not contain NUL characters.")
            return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, path, 413, f"The request body is over {limit} bytes.")
            return
        scan = headers.get(b"content-type", b"").lower().startswith(SCANNED_TYPES)
        counted, tail = 0, b""

        async def bounded() -> Message:
            nonlocal counted, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                counted += len(chunk)
                if counted > limit:
                    raise HTTPException(413, f"The request body is over {limit} bytes.")
                if scan:
                    window = tail + chunk
                    if NUL.search(window):
                        raise HTTPException(422, "Text must not contain NUL characters.")
                    tail = window[-TAIL:]
            return message

        await self.app(scope, bounded, send)


async def _refuse(send: Send, path: str, status: int, message: str) -> None:
    if path.startswith("/cds-services"):
        # The CDS service answers every refusal as a FHIR OperationOutcome, these too.
        code = "too-long" if status == 413 else "invalid"
        body = json.dumps(CdsHooksError(status, code, message).outcome()).encode()
        kind = b"application/json"
    elif path.startswith("/api/"):
        body = json.dumps({"title": message, "problems": []}).encode()
        kind = b"application/json"
    else:
        body = f"<!doctype html><title>Refused</title><p>{message}</p>".encode()
        kind = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", kind), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})
