"""Staff sign-in's second factor (issue 17 item 16): a time-based one-time password
(TOTP, RFC 6238, with ``pyotp``) from an authenticator app, and single-use recovery
codes for a lost phone. The console asks for a code after it has checked a staff
member's token; an owner can require the second factor for the whole tenant.

Kept beside booking's events in two tables of its own:

- ``staff_mfa``: per staff member, the TOTP secret wrapped with the tenant's key (the
  key hierarchy of personal data: a database dump shows no secret), keyed digests of
  the recovery codes still unused, the last time step accepted (a code works once), and
  the failures counted in the current window;
- ``mfa_policy``: per tenant, whether every staff member must use it.

Failed attempts are limited per staff member (``MAX_FAILURES`` in ``FAILURE_WINDOW``,
then locked until the window ends), whatever address or replica they come from; each
attempt's outcome is on the audit trail (the routes record it in the same unit of work).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pyotp
from psycopg import Cursor, sql
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from slotline.events.privacy.keys import KeyEncryptionKeys
from slotline.events.wire_sealing import pseudonym

ISSUER = "Slotline"
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
RECOVERY_CODES = 10
DRIFT_STEPS = 1
"""A code of the step before or after now is accepted too (a phone's clock 30 s off)."""


class Verdict(StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"
    LOCKED = "locked"
    NOT_ENROLLED = "not_enrolled"


@dataclass(frozen=True)
class Status:
    enrolled: bool
    required: bool
    recovery_codes_left: int


@dataclass(frozen=True)
class Enrolment:
    """Shown once: the secret (for typing in), the ``otpauth://`` URI (for a QR code)
    and the recovery codes. None of them can be read again."""

    secret: str
    uri: str
    recovery_codes: list[str]


@dataclass(frozen=True)
class Attempt:
    verdict: Verdict
    locked_until: datetime | None = None


class AlreadyEnrolled(Exception):
    """A confirmed second factor is replaced only after an owner resets it."""


class StaffMfa:
    def __init__(
        self,
        schema: str,
        kek: KeyEncryptionKeys,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.kek = kek
        self.clock = clock
        self.factors = sql.Identifier(schema, "staff_mfa")
        self.policy = sql.Identifier(schema, "mfa_policy")

    def ensure(self, cursor: Cursor[DictRow]) -> None:
        cursor.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (tenant_id text NOT NULL, staff_id text NOT NULL,"
                " wrapped_secret bytea NOT NULL, confirmed_at timestamptz,"
                " recovery jsonb NOT NULL, last_step bigint NOT NULL DEFAULT 0,"
                " failures integer NOT NULL DEFAULT 0, failing_since timestamptz,"
                " PRIMARY KEY (tenant_id, staff_id));"
                " CREATE TABLE IF NOT EXISTS {} (tenant_id text PRIMARY KEY,"
                " required boolean NOT NULL, changed_by text NOT NULL,"
                " changed_at timestamptz NOT NULL)"
            ).format(self.factors, self.policy)
        )

    # -- reading ------------------------------------------------------------------------

    def status(self, cursor: Cursor[DictRow], tenant_id: str, staff_id: str) -> Status:
        row = self._row(cursor, tenant_id, staff_id)
        enrolled = row is not None and row["confirmed_at"] is not None
        return Status(
            enrolled=enrolled,
            required=self.required(cursor, tenant_id),
            recovery_codes_left=len(row["recovery"]) if row is not None and enrolled else 0,
        )

    def required(self, cursor: Cursor[DictRow], tenant_id: str) -> bool:
        cursor.execute(
            sql.SQL("SELECT required FROM {} WHERE tenant_id = %s").format(self.policy),
            (tenant_id,),
        )
        row = cursor.fetchone()
        return bool(row and row["required"])

    # -- changing -----------------------------------------------------------------------

    def begin(
        self, cursor: Cursor[DictRow], tenant_id: str, staff_id: str, label: str
    ) -> Enrolment:
        """A new secret and recovery codes, waiting for a first code to confirm them (an
        unconfirmed enrolment is replaced by the next one)."""
        row = self._row(cursor, tenant_id, staff_id, lock=True)
        if row is not None and row["confirmed_at"] is not None:
            raise AlreadyEnrolled("a second factor is set up already; an owner can reset it")
        secret = pyotp.random_base32()
        codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
        cursor.execute(
            sql.SQL(
                "INSERT INTO {} (tenant_id, staff_id, wrapped_secret, recovery)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (tenant_id, staff_id) DO UPDATE SET"
                " wrapped_secret = EXCLUDED.wrapped_secret, recovery = EXCLUDED.recovery,"
                " confirmed_at = NULL, last_step = 0, failures = 0, failing_since = NULL"
            ).format(self.factors),
            (
                tenant_id,
                staff_id,
                self.kek.wrap(tenant_id, _subject(staff_id), secret.encode()),
                Jsonb([self._digest(tenant_id, staff_id, code) for code in codes]),
            ),
        )
        uri = pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=ISSUER)
        return Enrolment(secret=secret, uri=uri, recovery_codes=codes)

    def confirm(self, cursor: Cursor[DictRow], tenant_id: str, staff_id: str, code: str) -> Attempt:
        """The first code from the app proves it holds the secret; then it counts."""
        return self._attempt(cursor, tenant_id, staff_id, code, confirming=True)

    def challenge(
        self, cursor: Cursor[DictRow], tenant_id: str, staff_id: str, code: str
    ) -> Attempt:
        """A sign-in's second step: a current code, or one of the recovery codes (each
        works once)."""
        return self._attempt(cursor, tenant_id, staff_id, code, confirming=False)

    def reset(self, cursor: Cursor[DictRow], tenant_id: str, staff_id: str) -> bool:
        """An owner's reset for a lost phone and lost codes: the staff member enrols
        again at the next sign-in."""
        cursor.execute(
            sql.SQL("DELETE FROM {} WHERE tenant_id = %s AND staff_id = %s").format(self.factors),
            (tenant_id, staff_id),
        )
        return cursor.rowcount > 0

    def require(self, cursor: Cursor[DictRow], tenant_id: str, required: bool, by: str) -> None:
        cursor.execute(
            sql.SQL(
                "INSERT INTO {} (tenant_id, required, changed_by, changed_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (tenant_id) DO UPDATE SET"
                " required = EXCLUDED.required, changed_by = EXCLUDED.changed_by,"
                " changed_at = EXCLUDED.changed_at"
            ).format(self.policy),
            (tenant_id, required, by, self.clock()),
        )

    # -- the check ----------------------------------------------------------------------

    def _attempt(
        self,
        cursor: Cursor[DictRow],
        tenant_id: str,
        staff_id: str,
        code: str,
        *,
        confirming: bool,
    ) -> Attempt:
        row = self._row(cursor, tenant_id, staff_id, lock=True)
        if row is None or (row["confirmed_at"] is None) != confirming:
            return Attempt(Verdict.NOT_ENROLLED)
        now = self.clock()
        since = row["failing_since"]
        if row["failures"] >= MAX_FAILURES and since is not None and now < since + FAILURE_WINDOW:
            return Attempt(Verdict.LOCKED, since + FAILURE_WINDOW)
        secret = self.kek.unwrap(tenant_id, _subject(staff_id), bytes(row["wrapped_secret"]))
        step = _matching_step(pyotp.TOTP(secret.decode()), code, now, after=row["last_step"])
        recovery: list[str] = list(row["recovery"])
        used = None
        if step is None and not confirming:
            digest = self._digest(tenant_id, staff_id, code)
            used = next((d for d in recovery if hmac.compare_digest(d, digest)), None)
        if step is None and used is None:
            fresh = since is None or now >= since + FAILURE_WINDOW or row["failures"] == 0
            failures = 1 if fresh else row["failures"] + 1
            cursor.execute(
                sql.SQL(
                    "UPDATE {} SET failures = %s, failing_since = %s"
                    " WHERE tenant_id = %s AND staff_id = %s"
                ).format(self.factors),
                (failures, now if fresh else since, tenant_id, staff_id),
            )
            if failures >= MAX_FAILURES:
                return Attempt(Verdict.LOCKED, (now if fresh else since) + FAILURE_WINDOW)
            return Attempt(Verdict.WRONG)
        if used is not None:
            recovery.remove(used)
        cursor.execute(
            sql.SQL(
                "UPDATE {} SET failures = 0, failing_since = NULL, recovery = %s,"
                " last_step = %s, confirmed_at = coalesce(confirmed_at, %s)"
                " WHERE tenant_id = %s AND staff_id = %s"
            ).format(self.factors),
            (Jsonb(recovery), step or row["last_step"], now, tenant_id, staff_id),
        )
        return Attempt(Verdict.VERIFIED)

    def _row(
        self, cursor: Cursor[DictRow], tenant_id: str, staff_id: str, *, lock: bool = False
    ) -> dict[str, Any] | None:
        cursor.execute(
            sql.SQL(
                "SELECT * FROM {} WHERE tenant_id = %s AND staff_id = %s"
                + (" FOR UPDATE" if lock else "")
            ).format(self.factors),
            (tenant_id, staff_id),
        )
        return cursor.fetchone()

    @staticmethod
    def _digest(tenant_id: str, staff_id: str, code: str) -> str:
        """Keyed with the tenant's key: a dump of the table gives no way to test guesses."""
        return pseudonym(tenant_id, f"staff mfa recovery:{staff_id}:{_plain(code)}")


def _matching_step(totp: pyotp.TOTP, code: str, now: datetime, *, after: int) -> int | None:
    """The time step whose code this is (now, or one step off), if later than the last
    one accepted: a code seen once is refused ever after."""
    if not (len(code) == totp.digits and code.isdigit()):
        return None
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _recovery_code() -> str:
    raw = secrets.token_hex(5)  # 40 bits, each code once
    return f"{raw[:5]}-{raw[5:]}"


def _plain(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


def _subject(staff_id: str) -> str:
    return f"staff-mfa:{staff_id}"
