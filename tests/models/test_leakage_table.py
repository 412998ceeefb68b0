"""The flat export's leakage guard: every column judged, a warning band, winner-only sparse columns and post-outcome names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.models.leakage_table import leakage_table, looks_post_outcome, refuse_leaks
from leadscore.pipeline.errors import BadInputError


def _export(seed: int = 0, n: int = 3000) -> tuple[pd.DataFrame, np.ndarray]:
    """An honest column, a deal column filled for a few dozen winners only, and sales-status tags that rank wins at ~0.92."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.12).astype(int)
    winners = np.flatnonzero(y == 1)
    deal_value = np.full(n, np.nan)
    deal_value[rng.choice(winners, 30, replace=False)] = rng.integers(1_000, 9_000, 30)
    # the tag tells the outcome for 92% of rows; the rest carry a tag of the other outcome (a deal reopened, a wrong tag)
    closed = rng.choice(["Closed by Horizon", "Closed by Lost Lead"], n)
    lost = rng.choice(["Lost to EINS", "Lost to Others", "Will revert after reading the email"], n)
    says_won = (y == 1) == (rng.random(n) < 0.92)
    X = pd.DataFrame({"visits": rng.poisson(2 + y), "deal_value": deal_value,
                      "sales_status": pd.Series(np.where(says_won, closed, lost), dtype="string")})
    return X, y


def test_every_column_gets_a_row_with_its_fill_rates_and_win_rate_when_filled():
    X, y = _export()
    table = leakage_table(X, y).set_index("feature")
    assert list(table.index) == ["visits", "deal_value", "sales_status"]
    assert table.loc["visits", "verdict"] == "ok" and table.loc["visits", "filled_other"] == 1.0
    assert table.loc["deal_value", "filled_rows"] == 30 and table.loc["deal_value", "win_rate_filled"] == 1.0
    assert table.loc["deal_value", "filled_won"] < 0.1  # sparse: the old 90%-of-winners rule let it pass


def test_a_sparse_winner_only_column_and_a_status_column_in_the_warning_band_are_refused():
    X, y = _export()
    table = leakage_table(X, y).set_index("feature")
    assert 0.85 < table.loc["sales_status", "auc"] < 0.95  # below the refusal threshold alone
    assert table.loc["deal_value", "verdict"] == "refuse" and "every one a winner" in table.loc["deal_value", "reason"]
    assert table.loc["sales_status", "verdict"] == "refuse" and "name reads like" in table.loc["sales_status", "reason"]
    with pytest.raises(BadInputError, match=r"leads.csv: refusing .*'deal_value'.*'sales_status'.*model.allow_features.*"
                                            r"allow_features: \[deal_value, sales_status\]"):
        refuse_leaks(leakage_table(X, y), "leads.csv")


def test_the_same_ranking_under_a_neutral_name_is_warned_of_and_a_post_outcome_name_alone_asks_for_confirmation():
    X, y = _export()
    X = X.rename(columns={"sales_status": "remark"}).assign(call_duration=np.random.default_rng(1).random(len(y)))
    table = leakage_table(X, y).set_index("feature")
    assert table.loc["remark", "verdict"] == "warn"
    assert table.loc["call_duration", "verdict"] == "confirm"
    refuse_leaks(table.reset_index().query("feature != 'deal_value'"), "leads.csv")  # warnings do not stop training


def test_a_column_allowed_by_name_keeps_its_row_and_is_not_refused():
    X, y = _export()
    table = leakage_table(X, y, allowed=("deal_value", "sales_status"))
    assert set(table.loc[table["feature"] != "visits", "verdict"]) == {"allowed"}
    refuse_leaks(table, "leads.csv")


def test_a_column_of_unique_text_is_not_mistaken_for_a_perfect_ranking():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.2).astype(int)
    X = pd.DataFrame({"free_text": pd.Series([f"note {i}" for i in range(2000)], dtype="string")})
    assert leakage_table(X, y)["auc"].iloc[0] < 0.6


@pytest.mark.parametrize("name, flagged", [("Tags", True), ("Lead Quality", True), ("dealStage", True), ("closed_at", True),
                                           ("won", True), ("Total Time Spent", False), ("wonderland", False)])
def test_post_outcome_names_are_matched_by_word(name, flagged):
    assert looks_post_outcome(name) is flagged
