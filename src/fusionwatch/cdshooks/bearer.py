"""The JWT a CDS client signs for each call, verified as CDS Hooks 2.0.1 requires."""

import datetime as dt
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

import jwt

# Asymmetric algorithms only: "none" and HMAC (HS*) are refused by the spec.
ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
REQUIRED = ("iss", "aud", "exp", "iat", "jti")
_SEEN_LIMIT = 10_000
# Clock skew tolerated between the EHR and this service.
LEEWAY_SECONDS = 30
# CDS Hooks 2.0 (Trusting CDS Clients): "exp ... (recommended 5 minutes)"; a site may set less.
MAX_LIFETIME_SECONDS = 300


class Replay(Protocol):
    def check(self, issuer: str, jti: str, expires: int, now: int) -> None:
        """Raise BearerError when this issuer's token id was already used."""


class BearerError(ValueError):
    """Why a call's token was refused; the message never contains the token."""


class ReplayGuard:
    """Remembers recent token ids (jti) so that a captured token cannot be replayed."""

    def __init__(self) -> None:
        self._seen: OrderedDict[tuple[str, str], int] = OrderedDict()

    def check(self, issuer: str, jti: str, expires: int, now: int) -> None:
        while self._seen and (
            len(self._seen) > _SEEN_LIMIT or next(iter(self._seen.values())) < now
        ):
            self._seen.popitem(last=False)
        if (issuer, jti) in self._seen:
            raise BearerError("token id (jti) already used")
        self._seen[issuer, jti] = expires


def verify(
    header: str | None,
    *,
    audience: str,
    issuers: Mapping[str, str],
    now: dt.datetime,
    replay: Replay,
    max_lifetime: int = MAX_LIFETIME_SECONDS,
) -> dict[str, Any]:
    """Check an ``Authorization`` header; returns the claims or raises BearerError."""
    if header is None or not header.startswith("Bearer "):
        raise BearerError("missing bearer token")
    token = header.removeprefix("Bearer ").strip()
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError as err:
        raise BearerError("malformed token") from err
    if algorithm not in ALGORITHMS:
        raise BearerError(f"algorithm {algorithm} is not allowed")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or issuer not in issuers:
        raise BearerError("issuer is not on the allow-list")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            issuers[issuer],
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            # Times are checked below against the app's clock, not the process clock.
            options={"require": list(REQUIRED), "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as err:
        raise BearerError(f"token refused: {type(err).__name__}") from err
    stamp = int(now.replace(tzinfo=dt.UTC).timestamp())
    _check_times(claims, stamp, max_lifetime)
    replay.check(issuer, str(claims["jti"]), int(claims["exp"]), stamp)
    return claims


def _check_times(claims: dict[str, Any], now: int, max_lifetime: int) -> None:
    expires, issued = claims["exp"], claims["iat"]
    if not isinstance(expires, int | float) or not isinstance(issued, int | float):
        raise BearerError("exp and iat must be numbers")
    if expires - issued > max_lifetime:
        raise BearerError(f"token lifetime over {max_lifetime} seconds")
    if expires < now - LEEWAY_SECONDS:
        raise BearerError("token expired")
    if issued > now + LEEWAY_SECONDS:
        raise BearerError("token issued in the future")
