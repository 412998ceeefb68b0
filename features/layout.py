"""How activities are laid out for fast feature builds: a copy keyed by integers, clustered by lead.

Every build joins activities to snapshots by lead, groups the joined rows by activity type
and channel, and filters activity types in three more scans. On text keys those joins,
groupings and filters cost a fifth of a 1-date build. So the copy a load makes carries two
integer columns beside the contract's text ones:

- `lead_key`: the lead's rank by `lead_id` (table `lead_keys`); the copy is sorted by it;
- `kind`: a code per (activity type, channel) pair the data holds (table `activity_kinds`),
  read from the data: any vocabulary, a channel left empty included.

The contract views do not change: `activities` still shows the contract's columns. A table too
large to copy (a view over its files) and Spark keep the text keys; `features.builder`
writes the same query for both layouts (`benchmarks/bench_features.py`, BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from leadscore.features.declarations import is_type, quoted

KEYED_ACTIVITIES = "keyed_activities"


@dataclass(frozen=True)
class Layout:
    """What the feature query joins on and how it filters activity types.

    `kinds` maps each kind code to its (activity type, channel); empty means text keys.
    """

    kinds: dict[int, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def keyed(self) -> bool:
        return bool(self.kinds)

    @property
    def key(self) -> str:
        """The column activities and snapshots are joined on."""
        return "lead_key" if self.keyed else "lead_id"

    @property
    def activities(self) -> str:
        """The relation the query reads activities from."""
        return KEYED_ACTIVITIES if self.keyed else "activities"

    def of_types(self, types: list[str] | tuple[str, ...]) -> str:
        """Return the SQL condition "activity `a` is one of `types`"."""
        if not self.keyed:
            return is_type(types, "a")
        codes = [str(kind) for kind, (activity_type, _) in sorted(self.kinds.items()) if activity_type in types]
        return f"a.kind IN ({', '.join(codes)})" if codes else "FALSE"


TEXT_KEYS = Layout()
"""The layout of views over files, of frames and of Spark: joins on `lead_id`, types by name."""


def create_keyed_copy(con: duckdb.DuckDBPyConnection, source: str = "activities",
                      kinds: list[tuple[str, str]] | None = None) -> None:
    """Copy relation `source` (contract columns) into the keyed layout and point `activities` at it.

    `kinds` lists the (activity type, channel) pairs the data can hold, when validation has
    already made sure of it (saves a scan); otherwise they are read from `source`. A lead_id
    missing from `leads` keeps its rows (with no key: no snapshot can see them). With `kinds`
    given, a row whose pair is not among them would be dropped: pass them only for validated data.
    """
    con.execute("CREATE OR REPLACE TABLE lead_keys AS "  # DISTINCT: frames are not validated, and a repeated lead must not repeat rows
                "SELECT lead_id, CAST(row_number() OVER (ORDER BY lead_id) AS BIGINT) AS lead_key FROM (SELECT DISTINCT lead_id FROM leads)")
    pairs = (f"(VALUES {', '.join(f'({_literal(t)}, {_literal(c)})' for t, c in kinds)}) AS v(activity_type, channel)" if kinds
             else f"(SELECT DISTINCT activity_type, channel FROM {source})")
    con.execute(f"CREATE OR REPLACE TABLE activity_kinds AS "
                f"SELECT CAST(row_number() OVER (ORDER BY activity_type, channel) AS SMALLINT) AS kind, activity_type, channel "
                f"FROM {pairs}")
    # sorting by an integer is cheaper than by text: a time-ordered export loads in 5.6 s against 7.0 s; a
    # lead-ordered file pays ~0.2 s for the two joins (BENCHMARKS.md)
    con.execute(f"""
        CREATE OR REPLACE TABLE {KEYED_ACTIVITIES} AS
        SELECT k.lead_key, d.kind, a.*
        FROM {source} a
        LEFT JOIN lead_keys k ON k.lead_id = a.lead_id
        JOIN activity_kinds d ON d.activity_type IS NOT DISTINCT FROM a.activity_type
                             AND d.channel IS NOT DISTINCT FROM a.channel
        ORDER BY k.lead_key, a.occurred_at""")
    con.execute(f"CREATE OR REPLACE VIEW activities AS SELECT * EXCLUDE (lead_key, kind) FROM {KEYED_ACTIVITIES}")


def _literal(text: str | None) -> str:
    return "CAST(NULL AS VARCHAR)" if text is None else quoted([text])[1:-1]


def layout_of(con: duckdb.DuckDBPyConnection) -> Layout:
    """Return the layout of the CRM on `con`: keyed if a keyed copy was made, else text keys."""
    # only where the builder's unqualified names resolve: an attached DuckDB source may hold any table name
    tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables() "
                                              "WHERE database_name = current_database() AND schema_name = current_schema()").fetchall()}
    if KEYED_ACTIVITIES not in tables:
        return TEXT_KEYS
    rows = con.execute("SELECT kind, activity_type, channel FROM activity_kinds").fetchall()
    return Layout({int(kind): (activity_type, channel) for kind, activity_type, channel in rows}) if rows else TEXT_KEYS
