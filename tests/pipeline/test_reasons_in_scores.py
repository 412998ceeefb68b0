"""The reasons in a scores file read as Sales reads them: lists in Parquet, joined text in CSV, no garbled words."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from leadscore.features.registry import all_features
from leadscore.models.explain import reasons_from_contributions
from leadscore.pipeline.reasons import REASON_COLUMNS, REASON_SEPARATOR
from leadscore.pipeline.score import score

AS_OF = "2026-05-01"
RAW_CODE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")  # paid_search, c_level, company_size_band
GARBLED = re.compile(r"\bno an?\b|\bnan\b|\b1 days\b|\bnever:|\bnone\b", re.IGNORECASE)  # "Finance" holds "nan": words only


def test_a_reason_listed_as_raising_the_score_has_a_positive_contribution():
    registry = {f.name: f for f in all_features()}
    features = pd.DataFrame({"days_inactive": [3.0, 40.0], "web_visit_count_30d": [6, 0], "is_bounced": [False, True]})
    contributions = pd.DataFrame({"days_inactive": [0.4, -0.9], "web_visit_count_30d": [0.0, -0.1], "is_bounced": [-0.2, -1.2]})
    reasons = reasons_from_contributions(contributions, features, registry, top=3)
    assert reasons["reasons_up"].tolist() == [["inactive for 3 days"], []]  # a zero contribution raises nothing
    assert reasons["reasons_down"].tolist() == [["no bounced email"],
                                                ["email address bounced", "inactive for 40 days", "0 web visits in the last 30 days"]]


def test_scored_reasons_have_no_garbled_words_and_are_lists_in_parquet_and_text_in_csv(trained, tmp_path):
    config, crm, _ = trained
    result = score(None, AS_OF, config, crm=crm, out=tmp_path / "scores.parquet", log_to_mlflow=False,
                   history=False)
    frame = pd.read_parquet(tmp_path / "scores.parquet")
    texts = [text for column in REASON_COLUMNS for reasons in frame[column] for text in reasons]
    assert len(texts) > 100 and all(isinstance(r, np.ndarray) for r in frame["reasons_model_up"])
    for text in texts:
        assert not GARBLED.search(text), text
        assert not RAW_CODE.search(text), text
    assert any("minute" in t or "hour" in t for t in texts) or not any("second" in t for t in texts)

    score(None, AS_OF, config, crm=crm, out=tmp_path / "scores.csv", log_to_mlflow=False, history=False)
    csv = pd.read_csv(tmp_path / "scores.csv", keep_default_na=False)
    first = result.frame["reasons_model_up"].map(len).idxmax()
    row = csv.loc[csv["lead_id"].astype(str) == str(result.frame.loc[first, "lead_id"])].iloc[0]
    assert row["reasons_model_up"] == REASON_SEPARATOR.join(result.frame.loc[first, "reasons_model_up"])
