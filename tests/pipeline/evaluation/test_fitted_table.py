"""The report's fitted-table section: three scorers on the same leads, the card, the diff, in HTML, Markdown and JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from leadscore.models.rules import PointsScorer
from leadscore.models.rules.fit import fit_points_table
from leadscore.models.rules.table import parse_points_table
from leadscore.pipeline.config import load_config
from leadscore.pipeline.evaluation import evaluate_scorers, write_report
from leadscore.pipeline.evaluation.fitted_table import fitted_table_section
from tests.models.test_rules_fit import FEATURES, crm_frame
from tests.pipeline.evaluation.test_report import THRESHOLDS, tiny_frame

CURRENT = parse_points_table({
    "name": "current",
    "rules": [{"id": "visits", "label": "visited", "feature": "visit_count_30d", "condition": {"at_least": 1}, "points": 30},
              {"id": "noise", "label": "noisy", "feature": "noise_count_30d", "condition": {"at_least": 3}, "points": 20}],
    "thresholds": {"stages": {"MQL": 30, "SQL": 50}, "segments": {"nurture": 10, "hot": 30}}})


def test_the_section_compares_three_scorers_and_renders_in_every_format(tmp_path):
    X, y = crm_frame(seed=5)
    train, test = X.iloc[:20_000].reset_index(drop=True), X.iloc[20_000:].reset_index(drop=True)
    fit = fit_points_table(train, y[:20_000], FEATURES, start=None)
    from leadscore.models.rules.fit import evidence, with_thresholds
    fit.table = with_thresholds(fit.table, 40, 60, 10, 40)
    fit.evidence = evidence(CURRENT, fit.table, train, y[:20_000], FEATURES, fit.points_per_log_odds)
    held = test.assign(label=y[20_000:], as_of=pd.Timestamp("2025-01-01", tz="UTC"))
    current = PointsScorer(CURRENT, features=FEATURES).fit(train, y[:20_000])
    fitted = PointsScorer(fit.table, features=FEATURES).fit(train, y[:20_000])
    model = np.clip(fitted.predict_proba(held)[:, 1] + np.random.default_rng(0).normal(0, 0.01, len(held)), 0, 1)
    section = fitted_table_section(held, model, current, fitted, fit, load_config())
    by_scorer = {r["scorer"]: r for r in section["comparison"]}
    assert set(by_scorer) == {"current table", "fitted table", "model"}
    assert by_scorer["fitted table"]["roc_auc"] > by_scorer["current table"]["roc_auc"]
    assert len(section["card"]) == len(fit.table.rules)
    assert any(line.startswith("noisy") and "→" in line for line in section["diff"])  # re-pointed or dropped
    assert {a["scorer"] for a in section["audits"]} == {"current table", "fitted table"}

    evaluation = evaluate_scorers(tiny_frame(), load_config(), THRESHOLDS)
    evaluation.fitted_table = section
    paths = write_report(evaluation, tmp_path)
    html = paths["html"].read_text()
    assert 'id="fitted-table"' in html and fit.table.rules[0].text in html
    assert "## Fitted points table" in paths["markdown"].read_text()
    assert json.loads(paths["json"].read_text())["fitted_table"]["rules"] == len(fit.table.rules)


def test_without_a_fitted_table_the_report_has_no_such_section(tmp_path):
    paths = write_report(evaluate_scorers(tiny_frame(), load_config(), THRESHOLDS), tmp_path)
    assert 'id="fitted-table"' not in paths["html"].read_text()
