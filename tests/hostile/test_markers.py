"""Competitor markers match as plain text, whatever the case, and never as a pattern."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.features.builder import build_features
from leadscore.features.crm import crm_from_frames
from leadscore.features.settings import FeatureSettings
from leadscore.features.synthetic import generate_crm


def _is_competitor(companies: list[str], markers: tuple[str, ...]) -> list[bool]:
    crm_data = generate_crm(40, seed=1, months=6)
    leads = crm_data.leads.copy()
    chosen = leads["lead_id"].iloc[:len(companies)].tolist()
    leads.loc[leads["lead_id"].isin(chosen), "company_name"] = companies
    crm = crm_from_frames(leads, crm_data.activities, crm_data.opportunities)
    settings = FeatureSettings.model_validate({"features": {"competitor_markers": list(markers)}})
    as_of = crm.data_end.normalize() + pd.Timedelta(days=1)
    snapshots = pd.DataFrame({"lead_id": chosen, "as_of": as_of})
    frame = build_features(crm, snapshots, settings).set_index("lead_id").loc[chosen]
    return frame["is_competitor"].astype(bool).tolist()


@pytest.mark.parametrize(("markers", "expected"), [
    (("Rival",), [True, True, False, False]),       # a marker in capitals still matches lower-case names
    (("%",), [False, False, False, True]),           # '%' is a character, not "anything"
    (("_",), [False, False, False, False]),          # nor is '_' "any one character"
    (("o'neil",), [False, False, True, False]),      # a quote is text, not the end of a literal
])
def test_markers_are_case_insensitive_substrings(markers, expected):
    assert _is_competitor(["RIVAL Corp", "the rival co", "O'Neil Ltd", "100% Media"], markers) == expected
