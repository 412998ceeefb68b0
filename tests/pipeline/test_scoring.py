"""The pure scoring steps: the scores file's rows and counts, and the date a run scores as of."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.scoring import OUTPUT_COLUMNS, as_output, score_counts, scoring_date


def _scored() -> pd.DataFrame:
    return pd.DataFrame({
        "lead_id": ["c", "a", "b"], "as_of": pd.Timestamp("2026-07-01", tz="UTC"), "probability": [0.9, 0.1, 0.4],
        "score": [90, 10, 40], "grade": ["A", "D", "B"], "segment": ["hot", "leave", "nurture"],
        "rule_points": [80.0, 5.0, 40.0], "rule_segment": ["hot", "nurture", "nurture"],
        "reasons_model_up": ["x", "", ""], "reasons_model_down": ["", "", ""], "reasons_rule": ["y", "", ""],
    })


def test_output_rows_are_sorted_by_lead_name_the_model_and_flag_where_the_scorers_disagree():
    scored = _scored()
    before = scored.copy()
    rows = as_output(scored, "leadscore", "7")
    assert tuple(rows.columns) == OUTPUT_COLUMNS
    assert rows["lead_id"].tolist() == ["a", "b", "c"]
    assert rows["segments_disagree"].tolist() == [True, False, False]
    assert set(rows["model_name"]) == {"leadscore"} and set(rows["model_version"]) == {"7"}
    pd.testing.assert_frame_equal(scored, before)  # the input frame is not mutated


def test_counts_add_up_to_the_leads_scored():
    counts = score_counts(as_output(_scored(), "leadscore", "7"))
    assert counts["leads"] == 3
    assert sum(v for k, v in counts.items() if k.startswith("grade_")) == 3
    assert sum(v for k, v in counts.items() if k.startswith("segment_")) == 3
    assert counts["segments_disagree"] == 1 and counts["segment_hot"] == 1


def test_a_run_scores_as_of_the_day_after_the_data_and_no_later():
    end = pd.Timestamp("2026-06-30 23:59", tz="UTC")
    assert scoring_date(None, end, "crm") == pd.Timestamp("2026-07-01", tz="UTC")
    assert scoring_date("2026-07-01 15:00", end, "crm") == pd.Timestamp("2026-07-01", tz="UTC")
    assert scoring_date(pd.Timestamp("2026-03-01"), end, "crm") == pd.Timestamp("2026-03-01", tz="UTC")
    with pytest.raises(BadInputError, match=r"crm: --as-of 2026-07-02 is after the data ends \(2026-06-30\)"):
        scoring_date("2026-07-02", end, "crm")
