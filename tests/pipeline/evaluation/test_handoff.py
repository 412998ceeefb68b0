"""The handoff audit: acceptance, recycling and conversion of the leads handed to Sales match a hand count."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from leadscore.pipeline.config import load_config
from leadscore.pipeline.evaluation.handoff import handoff_audit, handoffs


def t(text):
    return pd.Timestamp(text, tz="UTC")


ROWS = [  # lead, role, entered_at: worked out by hand below
    ("A", "lead", "2023-12-01"), ("A", "mql", "2024-01-01"), ("A", "sql", "2024-01-04"),       # accepted after 3 days
    ("B", "mql", "2024-01-10"), ("B", "recycled", "2024-01-15"),                               # recycled
    ("C", "mql", "2024-01-20"), ("C", "sql", "2024-03-30"),                                    # 70 days: no decision within 30
    ("D", "mql", "2024-02-02"), ("D", "disqualified", "2024-02-05"),                           # recycled (disqualified)
    ("D", "mql", "2024-02-20"), ("D", "sql", "2024-02-22"),                                    # handed again: accepted after 2 days
    ("E", "mql", "2024-02-10"),                                                                # no decision
]
LIFECYCLE = pd.DataFrame({"lead_id": [r[0] for r in ROWS], "role": [r[1] for r in ROWS], "entered_at": [t(r[2]) for r in ROWS]})
WINS = pd.DataFrame({"lead_id": ["A", "D"], "closed_at": [t("2024-03-01"), t("2024-12-01")]})  # D wins after its horizon
SCORED = pd.DataFrame({"lead_id": ["A", "B", "C"], "as_of": [t("2023-12-15"), t("2024-01-08"), t("2024-01-25")],
                       "model_grade": ["A", "D", "B"]})  # C is scored only after its handoff


def _audit(**overrides):
    config = load_config(windows={"horizon_days": 90}, **overrides)
    return handoff_audit(LIFECYCLE, WINS, SCORED, t("2024-12-31"), config)


def test_each_handoff_gets_sales_first_decision_within_the_window():
    frame = handoffs(LIFECYCLE, 30)
    assert frame["decision"].tolist() == ["accepted", "recycled", "no decision", "recycled", "accepted", "no decision"]
    assert frame["days_to_decision"].dropna().tolist() == [3.0, 5.0, 3.0, 2.0]


def test_acceptance_and_recycling_rates_per_period_match_a_hand_count():
    audit = _audit()
    periods = audit.periods.set_index("period")
    assert periods.loc["2024-01", ["handoffs", "accepted", "recycled", "no_decision"]].tolist() == [3, 1, 1, 1]
    assert periods.loc["2024-02", ["handoffs", "accepted", "recycled", "no_decision"]].tolist() == [3, 1, 1, 1]
    assert periods.loc["2024-01", "accepted_share"] == pytest.approx(1 / 3)
    assert periods.loc["2024-01", "median_days_to_sql"] == 3.0 and periods.loc["2024-02", "median_days_to_sql"] == 2.0
    assert periods.loc["2024-01", "conversion"] == pytest.approx(1 / 3)  # A won within 90 days of its handoff
    assert periods.loc["2024-02", "conversion"] == 0.0  # D's win comes after its two horizons
    assert audit.summary["accepted_share"] == pytest.approx(2 / 6) and audit.summary["recycled_share"] == pytest.approx(2 / 6)


def test_the_score_band_at_handoff_is_the_latest_score_before_it():
    bands = _audit().bands.set_index("band")
    assert bands.loc["A", "handoffs"] == 1 and bands.loc["A", "conversion"] == 1.0
    assert bands.loc["D", "handoffs"] == 1 and bands.loc["D", "recycled"] == 1  # B scored D on 2024-01-08, recycled
    assert bands.loc["unscored", "handoffs"] == 4


def test_handoffs_are_over_generous_when_acceptance_is_confidently_below_its_target():
    assert _audit().flags == []  # 2 of 6 accepted: too few handoffs to be sure it misses 50%
    flags = _audit(lifecycle={"min_acceptance_rate": 0.95}).flags
    assert any(f.startswith("Over-generous by acceptance: of 6 leads handed to Sales (entered MQL), Sales accepted 33% within 30 days")
               for f in flags)


def test_the_report_block_renders_the_audit():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("leadscore.pipeline", "templates"), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("handoff.html.j2").render(e=SimpleNamespace(handoff=_audit(lifecycle={"min_acceptance_rate": 0.95})))
    assert "Handoff audit" in html and "2024-02" in html and "Over-generous by acceptance" in html and "33.3%" in html


HELD_OUT = pd.DataFrame({  # held-out lead-snapshots: who a threshold passes, against who Sales was handed (ROWS)
    "lead_id": ["A", "B", "C", "D", "E", "F"],
    "as_of": [t("2023-12-20"), t("2024-01-05"), t("2023-11-01"), t("2024-02-01"), t("2024-02-01"), t("2024-02-01")],
    "label": [1, 0, 0, 0, 0, 1],
    "model_proba": [0.5, 0.1, 0.4, 0.3, 0.05, 0.6],
    "rule_points": [60, 70, 10, 80, 90, 0],
})


def test_what_other_thresholds_would_have_handed_over_matches_a_hand_count():
    from leadscore.pipeline.evaluation.handoff import handed_over_instead, threshold_candidates

    config = load_config(windows={"horizon_days": 90}, grades={"hot": 0.25})
    candidates = threshold_candidates(HELD_OUT, config, {"MQL": 50, "hot": 80}, fitted_points=[1, 0, 1, 1, 0, 1], fitted_mql=1)
    table = handed_over_instead(HELD_OUT, handoffs(LIFECYCLE, 30), candidates, 30).set_index("threshold")
    # handed over within 30 days of as_of: A (MQL 01-01, accepted), B (01-10, recycled), D (02-02, recycled);
    # C's handoff comes 80 days after its snapshot, E's 9 days after (no decision), F is never handed over
    actual = table.loc["actual handoffs (entered MQL)"]
    assert actual[["passed", "wins"]].tolist() == [4, 1] and actual["accepted_share"] == pytest.approx(1 / 4)
    model = table.loc["model hot threshold"]  # A, C, D, F
    assert model[["passed", "leads", "wins"]].tolist() == [4, 4, 2] and model["actually_handed_share"] == pytest.approx(2 / 4)
    assert model["accepted_share"] == pytest.approx(1 / 2)
    points = table.loc["points table MQL threshold"]  # A, B, D, E: all handed over, 1 win
    assert points[["passed", "wins"]].tolist() == [4, 1] and points["actually_handed_share"] == 1.0
    fitted = table.loc["fitted table MQL threshold"]  # A, C, D, F
    assert fitted["conversion"] == pytest.approx(0.5) and fitted["rule"] == "≥ 1 points"
