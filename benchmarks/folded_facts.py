"""Experiment: per-event facts computed once per CRM, so stage one also counts email streaks,
recent-send engagement and active days (a design measured and not adopted: BENCHMARKS.md).

The builder joins activities to snapshots four times: every event for stage one, then opens
and clicks, then sends (the email summaries), then active days. All that the last three need
can be known per event, independent of any snapshot, with one window pass over each lead's
events in time order:
- a send counts in the unopened streak of a snapshot at `as_of` iff the lead's next open or
  click after it is at or after `as_of` (`streak_until`);
- an open or click counts among those since the last N sends iff some send came at or before
  it and the N-th send after it is at or after `as_of` (`recent_until`);
- an own event that is its lead's first of the UTC day marks an active day (`first_of_day`).
Stage one then counts each with a FILTER, the email and day joins go, and one join remains.

This script builds those facts (the window pass), then runs that one-join query beside
`features.builder.build_features` on the 100k-lead CRM of `bench_features.py`, checks that
every feature agrees, and prints the times:

    .venv/bin/python benchmarks/folded_facts.py [--dates 1 6]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd

from common import crm_in_parts

FACTS = """
SELECT *,
       CASE WHEN activity_type = 'email_sent'
            THEN coalesce(next_engaged_at, 'infinity'::TIMESTAMPTZ) END AS streak_until,
       CASE WHEN activity_type IN ('email_open', 'email_click') AND sends_so_far >= 1
            THEN coalesce(nth_send_after, 'infinity'::TIMESTAMPTZ) END AS recent_until,
       {own} AND (previous_own_at IS NULL OR CAST(previous_own_at AS DATE) < CAST(occurred_at AS DATE)) AS first_of_day,
       CAST(occurred_at AS DATE) AS day
FROM (
    SELECT a.*,
           count(*) FILTER (WHERE activity_type = 'email_sent') OVER w AS sends_so_far,
           max(CASE WHEN {own} THEN occurred_at END) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_own_at,
           min(CASE WHEN activity_type IN ('email_open', 'email_click') THEN occurred_at END)
               OVER (w RANGE BETWEEN INTERVAL 1 MICROSECOND FOLLOWING AND UNBOUNDED FOLLOWING) AS next_engaged_at,
           nth_value(CASE WHEN activity_type = 'email_sent' THEN occurred_at END, {recent} IGNORE NULLS)
               OVER (w RANGE BETWEEN INTERVAL 1 MICROSECOND FOLLOWING AND UNBOUNDED FOLLOWING) AS nth_send_after
    FROM activities a
    WINDOW w AS (PARTITION BY lead_id ORDER BY occurred_at)
)
"""
"""One window specification, so one sort of the activities by (lead, time)."""


def folded_features(config):
    """Return the registry with the email and day features restated over stage one's new counts."""
    from leadscore.features.declarations import Feature, total
    from leadscore.features.registry import all_features

    sends = total("t.n", "t.activity_type = 'email_sent'")
    recent = int(config.features.recent_sends)

    def rate(engagement: str) -> str:
        hits = total("t.n_recent", f"t.activity_type = 'email_{engagement}'")
        return f"CASE WHEN {sends} > 0 THEN least(1.0, {hits} * 1.0 / least({sends}, {recent})) END"

    restated = {"unopened_email_streak": (total("t.n_streak"), "int"),
                "email_open_rate_last_sends": (rate("open"), "float"),
                "email_click_rate_last_sends": (rate("click"), "float"),
                "active_days_30d": (total("t.days_30d"), "int"),
                "active_days_90d": (total("t.days_90d"), "int")}
    return [Feature(f.name, f.family, f.description, "event", *restated[f.name], f.reason) if f.name in restated else f
            for f in all_features(config.for_features)]


def folded_sql(config, features, reference: float) -> str:
    """Return the one-join query over `facts` (decays factored around `reference`, epoch seconds)."""
    from leadscore.features.builder import VISIBLE_OPPORTUNITIES, _aggregate_cte, _fill_missing
    from leadscore.features.relations import SUMMARY_WINDOWS, summary_windows

    windows, halves = summary_windows(config.windows), config.windows.half_lives_days
    rates = {h: math.log(2) / h / 86400.0 for h in halves}
    starts = [f"s.as_of - INTERVAL {w} DAY AS from_{w}d" for w in windows]
    starts += [f"CAST(s.as_of AS DATE) - {w} AS day_from_{w}d" for w in (30, 90)]
    starts += [f"exp(({reference!r} - epoch(s.as_of)) * {r!r}) AS shrink_{h}d" for h, r in rates.items()]
    growths = [f"exp((epoch(f.occurred_at) - {reference!r}) * {r!r}) AS grow_{h}d" for h, r in rates.items()]
    counts = ["count(*)::DOUBLE AS n", "max(e.occurred_at) AS latest_at"]
    counts += [f"count(*) FILTER (WHERE e.occurred_at >= s.from_{w}d)::DOUBLE AS n_{w}d" for w in windows]
    counts += [f"sum(e.value) FILTER (WHERE e.occurred_at >= s.from_{w}d) AS value_{w}d" for w in SUMMARY_WINDOWS]
    counts += [f"sum(e.grow_{h}d) AS grow_{h}d" for h in halves]
    counts += ["count(*) FILTER (WHERE e.streak_until >= s.as_of)::DOUBLE AS n_streak",
               "count(*) FILTER (WHERE e.recent_until >= s.as_of)::DOUBLE AS n_recent"]
    counts += [f"count(*) FILTER (WHERE e.first_of_day AND e.day >= s.day_from_{w}d)::DOUBLE AS days_{w}d" for w in (30, 90)]
    summaries = ["g.*", "(epoch(s.as_of) - epoch(g.latest_at)) / 86400.0 AS age_min"]
    summaries += [f"g.grow_{h}d * s.shrink_{h}d AS decay_{h}d" for h in halves]
    kinds = {k: [f for f in features if f.kind == k] for k in ("lead", "event", "opportunity", "derived")}
    lead_columns = "".join(f", {f.sql} AS {f.name}" for f in kinds["lead"])
    filled = "".join(f", {_fill_missing(f, a)} AS {f.name}" for a, k in (("ev", "event"), ("op", "opportunity")) for f in kinds[k])
    derived = "".join(f", {f.sql} AS {f.name}" for f in kinds["derived"])
    return f"""
WITH snaps AS (SELECT s.*, {', '.join(starts)} FROM snapshots s),
events AS (SELECT f.*, {', '.join(growths)} FROM facts f),
grouped AS (SELECT s.sid, e.activity_type, e.channel, {', '.join(counts)}
            FROM snaps s JOIN events e ON e.lead_id = s.lead_id AND e.occurred_at < s.as_of
            GROUP BY s.sid, e.activity_type, e.channel),
event_summaries AS (SELECT {', '.join(summaries)} FROM grouped g JOIN snaps s ON s.sid = g.sid),
visible_opportunities AS ({VISIBLE_OPPORTUNITIES}),
{_aggregate_cte('ev', 't', 'event_summaries', kinds['event'])}{_aggregate_cte('op', 'o', 'visible_opportunities', kinds['opportunity'])}
base AS (SELECT s.sid, s.lead_id, s.as_of{lead_columns}{filled}
         FROM snapshots s JOIN leads l ON l.lead_id = s.lead_id
         LEFT JOIN ev_features ev ON ev.sid = s.sid LEFT JOIN op_features op ON op.sid = s.sid)
SELECT {', '.join(['sid', 'lead_id', 'as_of'] + [f.name for f in features])}
FROM (SELECT base.*{derived} FROM base) features ORDER BY sid
"""


def disagreements(expected: pd.DataFrame, actual: pd.DataFrame) -> list[str]:
    """Return the columns where the two frames differ beyond floating-point rounding."""
    out = []
    for column in expected.columns:
        a, b = expected[column], actual[column]
        if a.dtype.kind == "f":
            same = np.isclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=1e-9, equal_nan=True)
        else:
            same = ((a == b) | (a.isna() & b.isna())).to_numpy(bool)
        if not same.all():
            out.append(f"{column} ({int((~same).sum())} rows)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dates", type=int, nargs="+", default=[1, 6])
    args = parser.parse_args()
    from leadscore.features.builder import _snapshot_frame, _typed, build_features
    from leadscore.features.implicit import LEAD_INITIATED
    from leadscore.features.loaders import load_crm
    from leadscore.features.snapshots import open_leads_at
    from leadscore.pipeline.config import load_config

    config = load_config(engine={"memory_limit": "3GB", "threads": 2})
    crm = load_crm(crm_in_parts(100_000, parts=1), config.engine)
    con = crm.con
    started = time.perf_counter()
    con.execute("CREATE OR REPLACE TEMP TABLE sorted_copy AS SELECT * FROM activities ORDER BY lead_id, occurred_at")
    print(f"for comparison, the load's sorted copy of {crm.summary['activities_rows']:,} activities: "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    con.execute(f"CREATE OR REPLACE TEMP TABLE facts AS "
                f"{FACTS.format(own=LEAD_INITIATED.replace('t.', ''), recent=int(config.features.recent_sends))}")
    print(f"facts (one window pass, once per CRM): {time.perf_counter() - started:.1f} s", flush=True)
    features = folded_features(config)
    end = crm.data_end.normalize()
    for dates in args.dates:
        snaps = open_leads_at(crm, [end - pd.Timedelta(days=30 * i) for i in range(dates)])
        current, folded = [], []
        for _ in range(3):
            started = time.perf_counter()
            expected = build_features(crm, snaps, config.for_features)
            current.append(time.perf_counter() - started)
            started = time.perf_counter()
            frame = _snapshot_frame(snaps)
            con.register("snapshots", frame)
            actual = _typed(con.sql(folded_sql(config, features, frame["as_of"].max().timestamp())).to_arrow_table(), features)
            con.unregister("snapshots")
            folded.append(time.perf_counter() - started)
        print(f"{dates} date(s), {len(snaps):,} snapshots: build_features {', '.join(f'{t:.2f}' for t in current)} s; "
              f"folded {', '.join(f'{t:.2f}' for t in folded)} s; columns that disagree: "
              f"{disagreements(expected, actual) or 'none'}", flush=True)


if __name__ == "__main__":
    main()
