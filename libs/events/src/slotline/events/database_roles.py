"""Each service its own PostgreSQL role, owning its own schema and nothing else.

A service's role logs in (``slotline_<schema>``, its password from the operator's
secret manager), owns its schema and every table in it, and has no privilege on the
other services' schemas: a booking process that is compromised, or a bug in it, cannot
read or change availability's events, the notifier's message bodies or the ledgers.
Run once before a rollout by an administrator's connection (the init job); idempotent,
and it hands over tables an earlier release made as the administrator.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql


def role_for(schema: str) -> str:
    """The login role of the service whose schema this is."""
    return f"slotline_{schema}"


@dataclass(frozen=True)
class ServiceRole:
    schema: str
    password: str

    @property
    def role(self) -> str:
        return role_for(self.schema)


def provision(admin_url: str, roles: list[ServiceRole]) -> None:
    """Create or update each role (its password too), give it its schema and the tables
    in it; no one may create in the public schema (looking there stays allowed: the
    local stack keeps its broker restarts in a table there)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        for wanted in roles:
            role, schema = sql.Identifier(wanted.role), sql.Identifier(wanted.schema)
            exists = conn.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", (wanted.role,)
            ).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL(verb + " ROLE {} LOGIN NOINHERIT PASSWORD {}").format(
                    role, sql.Literal(wanted.password)
                )
            )
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(schema, role)
            )
            conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, role))
            conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(schema))
            owned = conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'S')"
                " AND pg_get_userbyid(c.relowner) <> %s",
                (wanted.schema, wanted.role),
            ).fetchall()
            for (table,) in owned:  # sequences of serial columns follow their tables
                conn.execute(
                    sql.SQL("ALTER TABLE {}.{} OWNER TO {}").format(
                        schema, sql.Identifier(table), role
                    )
                )
