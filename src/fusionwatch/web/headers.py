"""Security headers on every response (a pure ASGI middleware, cheap enough for the API path)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'",
    ),
    # Health information must not linger in shared or browser caches.
    (b"cache-control", b"no-store"),
]
PAGE_CSP = HEADERS[3]
DOCS_PATHS = ("/api/docs",)
# Swagger UI (served locally from swagger-ui-bundle) sets inline styles; scripts stay 'self'.
DOCS_CSP = (
    b"content-security-policy",
    b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
)


# HSTS: one year, sent only when cookies are forced Secure (the site is served over https).
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.extra = [HSTS] if hsts else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = str(scope.get("path", "")).startswith(DOCS_PATHS)
        extra = [*self.extra, DOCS_CSP] if docs else self.extra

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k for k, _ in headers}
                headers += [
                    (k, v)
                    for k, v in extra + HEADERS
                    if k not in names and not (docs and (k, v) == PAGE_CSP)
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
