"""Members, their consumers, users, API tokens and login sessions.

Secrets are never stored: passwords as argon2id hashes, tokens and session ids as SHA-256 digests (they are long
random strings, so a fast hash is enough and lets a lookup use an index).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, bindparam, select, update

from accord import clock
from accord.audit.chain import AuditEvent, AuditLog
from accord.config import Settings
from accord.errors import AuthenticationFailed, Conflict, NotFound, PermissionDenied, ValidationFailed
from accord.sharing.handling import ADMIN_ROLES, CLASSIFICATIONS, MEMBER_ROLES, USER_ROLES, Principal
from accord.storage.database import Database
from accord.storage.schema import consumers, members, public_id, sessions, tokens, users

__all__ = ["Accounts", "IssuedToken"]

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
_LANGUAGES = ("en", "fr", "ar", "ru", "fa")  # the languages of the pages and documents
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TOKEN_PREFIX = "acc_"  # noqa: S105 - a public prefix that marks Accord tokens, not a secret


# A bearer token's row with its user and member, in one statement built once (every API request runs it).
_TOKEN_USER = (select(tokens.c.id, tokens.c.public_id, tokens.c.revoked, tokens.c.expires, tokens.c.last_used,
                      users.c.id.label("user_id"), users.c.username, users.c.member_id, users.c.role,
                      users.c.clearance, users.c.consumer_id, users.c.language, users.c.disabled,
                      members.c.code.label("member_code"))
               .join(users, users.c.id == tokens.c.user_id).join(members, members.c.id == users.c.member_id)
               .where(tokens.c.token_hash == bindparam("digest")))


def _principal_of(row: Any, user_id: int, via: str, token_id: str | None = None) -> Principal:
    """The principal of a user row joined to its member's code (``member_code``); a disabled or missing user
    (``row`` None) is refused."""
    if row is None or row.disabled:
        raise AuthenticationFailed("the account is disabled or does not exist")
    return Principal(user_id=user_id, username=row.username, member_id=row.member_id, member_code=row.member_code,
                     role=row.role, clearance=row.clearance, consumer_id=row.consumer_id, language=row.language,
                     via=via, token_id=token_id)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    id: str  # the public id (tok_...), as listings and the audit trail show it
    secret: str  # shown once
    expires: str | None


class Accounts:
    def __init__(self, db: Database, audit: AuditLog, settings: Settings) -> None:
        self.db = db
        self.audit = audit
        self.settings = settings
        self._hasher = PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib,
                                      parallelism=2)
        # Verifying against a throw-away hash when the user does not exist keeps login timing uniform.
        self._dummy_hash = self._hasher.hash("not-a-password")

    # ----- members and consumers -------------------------------------------------------------------------
    def add_member(self, code: str, name: str, role: str = "member", actor: Principal | None = None) -> dict[str, Any]:
        code = code.strip().upper()
        if not _CODE.match(code):
            raise ValidationFailed.one("code", "1-32 characters: capital letters, digits, '-' or '_'")
        if not name.strip() or len(name) > 200:
            raise ValidationFailed.one("name", "must be 1-200 characters")
        if role not in MEMBER_ROLES:
            raise ValidationFailed.one("role", f"must be one of {', '.join(MEMBER_ROLES)}")
        if actor is not None and actor.role != "hub-admin":
            raise PermissionDenied("only a hub administrator adds members")
        with self.db.write() as conn:
            if conn.execute(select(members.c.id).where(members.c.code == code)).first():
                raise Conflict(f"member {code} already exists")
            mid = conn.execute(
                members.insert().values(code=code, name=name.strip(), role=role, created=clock.now())
            ).inserted_primary_key[0]  # type: ignore[index]
            self.audit.append(conn, [AuditEvent("member.add", actor.user_id if actor else None,
                                                actor.member_code if actor else None, detail={"code": code})])
        return {"id": mid, "code": code, "name": name.strip(), "role": role}

    def list_members(self, viewer: Principal | None = None) -> list[dict[str, Any]]:
        """Every member; with ``viewer``, the consumers of the viewer's own member only (all for the hub
        administrator): a member's downstream units, their names and how many it adds, are its own, and a
        release never names one. Without a viewer (the hub's own machine: CLI, documents), every member's."""
        with self.db.read() as conn:
            rows = conn.execute(select(members).order_by(members.c.code)).all()
            cons = conn.execute(select(consumers).order_by(consumers.c.code)).all()
        out = []
        for m in rows:
            d = m._asdict()
            shown = viewer is None or viewer.role == "hub-admin" or viewer.member_id == m.id
            d["consumers"] = [{"code": c.code, "name": c.name} for c in cons if c.member_id == m.id] if shown else []
            out.append(d)
        return out

    def member_by_code(self, conn: Connection, code: str) -> Any:
        row = conn.execute(select(members).where(members.c.code == code.upper())).first()
        if row is None:
            raise NotFound(f"no member {code}")
        return row

    def add_consumer(self, member_code: str, code: str, name: str, actor: Principal | None = None) -> dict[str, Any]:
        code = code.strip().upper()
        if not _CODE.match(code):
            raise ValidationFailed.one("code", "1-32 characters: capital letters, digits, '-' or '_'")
        with self.db.write() as conn:
            m = self.member_by_code(conn, member_code)
            if actor is not None and not (actor.role == "hub-admin" or
                                          (actor.role == "member-admin" and actor.member_id == m.id)):
                raise PermissionDenied("only the member's administrator adds its consumers")
            taken = select(consumers.c.id).where(consumers.c.member_id == m.id, consumers.c.code == code)
            if conn.execute(taken).first():
                raise Conflict(f"consumer {code} already exists for {m.code}")
            conn.execute(consumers.insert().values(member_id=m.id, code=code, name=name, created=clock.now()))
            # Account records are filed under the member whose accounts they concern, not the actor's: a member
            # administrator reads its own member's records, and the hub administrator is one of a member's users.
            self.audit.append(conn, [AuditEvent("consumer.add", actor.user_id if actor else None, m.code,
                                                detail={"member": m.code, "code": code})])
        # No row id: consumers and users are numbered across the whole hub, so a member administrator would read
        # off two of its own how many the other members added in between (users are named by username).
        return {"member": m.code, "code": code, "name": name}

    # ----- users -----------------------------------------------------------------------------------------
    def add_user(self, username: str, member_code: str, role: str, password: str | None = None, *,
                 clearance: int = 1, display_name: str = "", consumer: str | None = None,
                 language: str = "en", actor: Principal | None = None) -> dict[str, Any]:
        username = username.strip().lower()
        if not _USERNAME.match(username):
            raise ValidationFailed.one("username", "2-64 characters: lower-case letters, digits, '.', '_' or '-'")
        if role not in USER_ROLES:
            raise ValidationFailed.one("role", f"must be one of {', '.join(USER_ROLES)}")
        if not 0 <= clearance < len(CLASSIFICATIONS):
            raise ValidationFailed.one("clearance", f"must be between 0 and {len(CLASSIFICATIONS) - 1}")
        if password is not None and len(password) < 8:
            raise ValidationFailed.one("password", "must be at least 8 characters")
        if language not in _LANGUAGES:
            raise ValidationFailed.one("language", f"must be one of {', '.join(_LANGUAGES)}")
        if role == "consumer" and not consumer:
            raise ValidationFailed.one("consumer", "a consumer user belongs to one of its member's consumers")
        with self.db.write() as conn:
            m = self.member_by_code(conn, member_code)
            if actor is not None:
                if actor.role == "member-admin":
                    if actor.member_id != m.id or role == "hub-admin":
                        raise PermissionDenied("a member administrator manages its own member's users")
                elif actor.role != "hub-admin":
                    raise PermissionDenied("only administrators add users")
            consumer_id = None
            if consumer:
                c = conn.execute(select(consumers.c.id).where(consumers.c.member_id == m.id,
                                                              consumers.c.code == consumer.upper())).first()
                if c is None:
                    raise ValidationFailed.one("consumer", f"no consumer {consumer} of member {m.code}")
                consumer_id = c.id
            if conn.execute(select(users.c.id).where(users.c.username == username)).first():
                raise Conflict(f"user {username} already exists")
            conn.execute(users.insert().values(
                member_id=m.id, consumer_id=consumer_id, username=username,
                display_name=display_name or username, role=role, clearance=clearance,
                password_hash=self._hasher.hash(password) if password else None, disabled=False,
                language=language, failed_logins=0, created=clock.now(),
            ))
            self.audit.append(conn, [AuditEvent("user.add", actor.user_id if actor else None, m.code,
                                                detail={"username": username, "member": m.code, "role": role})])
        return {"username": username, "member": m.code, "role": role, "clearance": clearance}

    def list_users(self, member_code: str | None = None) -> list[dict[str, Any]]:
        # Users are named by username; their row ids (a counter of the whole hub) are not shown.
        q = (select(users.c.username, users.c.display_name, users.c.role, users.c.clearance,
                    users.c.disabled, users.c.language, users.c.last_seen, members.c.code.label("member"))
             .join(members, members.c.id == users.c.member_id).order_by(users.c.username))
        if member_code:
            q = q.where(members.c.code == member_code.upper())
        with self.db.read() as conn:
            return [r._asdict() for r in conn.execute(q)]

    def set_disabled(self, username: str, disabled: bool = True, actor: Principal | None = None) -> None:
        # Decided on the actor's role before any lookup, and another member's user is as missing as no user: the
        # answers must not tell which usernames exist in other members.
        if actor is not None and actor.role not in ADMIN_ROLES:
            raise PermissionDenied("only administrators disable users")
        with self.db.write() as conn:
            row = conn.execute(
                select(users.c.id, users.c.member_id, users.c.role, members.c.code)
                .join(members, members.c.id == users.c.member_id)
                .where(users.c.username == username.lower())).first()
            if row is None or (actor is not None and actor.role != "hub-admin" and actor.member_id != row.member_id):
                raise NotFound(f"no user {username}")
            if actor is not None and actor.role != "hub-admin" and row.role == "hub-admin":
                # The hub administrator is one of a member's users, but not the member administrator's to manage
                # (as for its tokens, `create_token`): disabling it would leave the hub without its administrator.
                raise PermissionDenied("a member administrator does not disable a hub administrator")
            conn.execute(update(users).where(users.c.id == row.id).values(disabled=disabled))
            if disabled:
                conn.execute(sessions.delete().where(sessions.c.user_id == row.id))
            self.audit.append(conn, [AuditEvent("user.disable" if disabled else "user.enable",
                                                actor.user_id if actor else None, row.code,
                                                detail={"username": username})])

    def set_language(self, principal: Principal, language: str) -> None:
        with self.db.write() as conn:
            conn.execute(update(users).where(users.c.id == principal.user_id).values(language=language))

    # ----- principals ------------------------------------------------------------------------------------
    def _principal(self, conn: Connection, user_id: int, via: str) -> Principal:
        row = conn.execute(
            select(users, members.c.code.label("member_code")).join(members, members.c.id == users.c.member_id)
            .where(users.c.id == user_id)
        ).first()
        return _principal_of(row, user_id, via)

    def principal_for(self, username: str) -> Principal:
        """The CLI acts as a named user; it needs no password because it runs on the hub's own machine."""
        with self.db.read() as conn:
            row = conn.execute(select(users.c.id).where(users.c.username == username.lower())).first()
            if row is None:
                raise NotFound(f"no user {username}")
            return self._principal(conn, row.id, "cli")

    def login(self, username: str, password: str, request_id: str | None = None) -> Principal:
        now = clock.now()
        principal: Principal | None = None
        with self.db.write() as conn:
            # FOR UPDATE: concurrent failures (several workers on PostgreSQL) must each count towards the lock-out.
            row = conn.execute(select(users).where(users.c.username == username.strip().lower()[:64])
                               .with_for_update()).first()
            try:
                stored = row.password_hash if row is not None and row.password_hash else self._dummy_hash
                ok: bool = self._hasher.verify(stored, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
            locked = row is not None and row.locked_until is not None and row.locked_until > now
            if row is None or row.disabled or not row.password_hash or locked or not ok:
                # The failure count and its audit record commit with this transaction; the error is raised after.
                if row is not None and not locked:
                    failures = row.failed_logins + 1
                    values: dict[str, Any] = {"failed_logins": failures}
                    if failures >= self.settings.login_max_failures:
                        values["locked_until"] = clock.format_ts(
                            clock.utcnow() + timedelta(minutes=self.settings.login_lock_minutes))
                        values["failed_logins"] = 0
                    conn.execute(update(users).where(users.c.id == row.id).values(**values))
                self.audit.append(conn, [AuditEvent("login.failed", row.id if row is not None else None,
                                                    request_id=request_id,
                                                    detail={"username": username[:64], "locked": bool(locked)})])
            else:
                conn.execute(update(users).where(users.c.id == row.id).values(failed_logins=0, locked_until=None,
                                                                             last_seen=now))
                principal = self._principal(conn, row.id, "session")
                self.audit.append(conn, [AuditEvent("login", principal.user_id, principal.member_code,
                                                    request_id=request_id)])
        if principal is None:
            raise AuthenticationFailed("wrong username or password, or the account is locked")
        return principal

    # ----- sessions --------------------------------------------------------------------------------------
    def open_session(self, principal: Principal) -> tuple[str, str]:
        sid = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        expires = clock.format_ts(clock.utcnow() + timedelta(hours=self.settings.session_hours))
        with self.db.write() as conn:
            conn.execute(sessions.insert().values(id_hash=_digest(sid), user_id=principal.user_id, csrf=csrf,
                                                  created=clock.now(), expires=expires))
        return sid, csrf

    def session_principal(self, sid: str) -> tuple[Principal, str]:
        with self.db.read() as conn:
            row = conn.execute(select(sessions).where(sessions.c.id_hash == _digest(sid))).first()
            if row is None or row.expires <= clock.now():
                raise AuthenticationFailed("the session has ended; log in again")
            return self._principal(conn, row.user_id, "session"), row.csrf

    def close_session(self, sid: str, principal: Principal | None = None) -> None:
        with self.db.write() as conn:
            conn.execute(sessions.delete().where(sessions.c.id_hash == _digest(sid)))
            if principal is not None:
                self.audit.append(conn, [AuditEvent("logout", principal.user_id, principal.member_code)])

    # ----- tokens ----------------------------------------------------------------------------------------
    def create_token(self, username: str, name: str = "api", days: int | None = None,
                     actor: Principal | None = None) -> IssuedToken:
        days = self.settings.token_days if days is None else days
        if not 0 <= days <= 3650:  # a negative lifetime was a token that never expires, a huge one an OverflowError
            raise ValidationFailed.one("days", "must be between 0 and 3650")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires = clock.format_ts(clock.utcnow() + timedelta(days=days)) if days > 0 else None
        # As for set_disabled: decided on the actor's role before any lookup, another member's user as missing.
        if actor is not None and actor.role not in ADMIN_ROLES and username.lower() != actor.username:
            raise PermissionDenied("you may create tokens for yourself, or as an administrator")
        with self.db.write() as conn:
            row = conn.execute(select(users.c.id, users.c.member_id, users.c.role, members.c.code)
                               .join(members, members.c.id == users.c.member_id)
                               .where(users.c.username == username.lower())).first()
            if row is None or (actor is not None and actor.user_id != row.id and actor.role != "hub-admin"
                               and actor.member_id != row.member_id):
                raise NotFound(f"no user {username}")
            if (actor is not None and actor.user_id != row.id and actor.role != "hub-admin"
                    and row.role == "hub-admin"):
                # A member administrator manages its own member's users, not the hub administrator who is one of
                # them (add_user refuses it the role): acting with such a token it would read every member's users
                # and the whole audit trail.
                raise PermissionDenied("a member administrator does not create tokens for a hub administrator")
            # A random public id, not the row number: a counter of the whole hub would tell a member
            # administrator how many tokens the other members' users made between two of its own.
            tid = public_id("tok_")
            conn.execute(tokens.insert().values(
                user_id=row.id, name=name[:100], prefix=secret[:10], token_hash=_digest(secret),
                created=clock.now(), expires=expires, revoked=False, public_id=tid))
            self.audit.append(conn, [AuditEvent("token.create", actor.user_id if actor else None, row.code,
                                                detail={"token": tid, "user": username})])
        return IssuedToken(tid, secret, expires)

    def list_tokens(self, username: str) -> list[dict[str, Any]]:
        q = (select(tokens.c.public_id.label("id"), tokens.c.name, tokens.c.prefix, tokens.c.created, tokens.c.expires,
                    tokens.c.revoked, tokens.c.last_used)
             .join(users, users.c.id == tokens.c.user_id).where(users.c.username == username.lower()))
        with self.db.read() as conn:
            return [r._asdict() for r in conn.execute(q)]

    def revoke_token(self, token_id: str, actor: Principal | None = None) -> None:
        """``token_id``: the public id."""
        with self.db.write() as conn:
            row = conn.execute(select(tokens.c.id, users.c.id.label("uid"), users.c.member_id, users.c.role,
                                      members.c.code)
                               .join(users, users.c.id == tokens.c.user_id)
                               .join(members, members.c.id == users.c.member_id)
                               .where(tokens.c.public_id == str(token_id))).first()
            if row is None:
                raise NotFound(f"no token {token_id}")
            if actor is not None and actor.user_id != row.uid and not (
                actor.role == "hub-admin" or (actor.role in ADMIN_ROLES and actor.member_id == row.member_id)):
                raise NotFound(f"no token {token_id}")
            if actor is not None and actor.user_id != row.uid and actor.role != "hub-admin" and row.role == "hub-admin":
                raise PermissionDenied("a member administrator does not revoke a hub administrator's tokens")
            conn.execute(update(tokens).where(tokens.c.id == row.id).values(revoked=True))
            self.audit.append(conn, [AuditEvent("token.revoke", actor.user_id if actor else None, row.code,
                                                detail={"token": token_id})])

    def token_principal(self, secret: str, request_id: str | None = None) -> Principal:
        """Resolve a bearer token. Every read or write done with it is audited with the token's id; on top of
        that, a ``token.use`` record is written the first time a token is used in each minute (with
        ``last_used``), so idle tokens and token activity show in the trail without doubling every request."""
        with self.db.read() as conn:
            row = conn.execute(_TOKEN_USER, {"digest": _digest(secret)}).first()
        if row is None or row.revoked or (row.expires is not None and row.expires <= clock.now()):
            raise AuthenticationFailed("the token is unknown, revoked or expired")
        principal = _principal_of(row, row.user_id, "token", row.public_id)
        now = clock.utcnow()
        if row.last_used is None or row.last_used < clock.format_ts(now - timedelta(seconds=60)):
            with self.db.write() as conn:
                conn.execute(update(tokens).where(tokens.c.id == row.id).values(last_used=clock.format_ts(now)))
                self.audit.append(conn, [AuditEvent("token.use", principal.user_id, principal.member_code,
                                                    request_id=request_id, detail={"token": row.public_id})])
        return principal
