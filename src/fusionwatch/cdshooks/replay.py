"""Replay memory for CDS Hooks JWTs in the database: holds across workers and restarts."""

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from fusionwatch.cdshooks.bearer import LEEWAY_SECONDS, BearerError
from fusionwatch.store.database import Database
from fusionwatch.store.tables import CdsTokenUse


class DatabaseReplay:
    """Each (issuer, jti) is stored until the token expires; a second use is refused."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def check(self, issuer: str, jti: str, expires: int, now: int) -> None:
        if len(jti) > 200 or len(issuer) > 200:
            raise BearerError("token id (jti) or issuer too long")
        until = dt.datetime.fromtimestamp(expires, dt.UTC).replace(tzinfo=None)
        # Kept past expiry by the clock-skew leeway, during which the token is still accepted.
        moment = dt.datetime.fromtimestamp(now - LEEWAY_SECONDS, dt.UTC).replace(tzinfo=None)
        try:
            with self.db.session() as s:
                s.execute(delete(CdsTokenUse).where(CdsTokenUse.expires_at < moment))
                s.add(CdsTokenUse(issuer=issuer, jti=jti, expires_at=until))
        except IntegrityError as err:
            raise BearerError("token id (jti) already used") from err
