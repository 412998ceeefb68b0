"""A nightly run that reuses validated activity parts writes the scores a full load writes, byte for byte."""

from __future__ import annotations

import pandas as pd

from leadscore.features.loaders import load_crm
from leadscore.pipeline.score import score

AS_OF = "2026-05-01"


def _monthly_parts(crm, folder, months=None) -> None:
    """Write the CRM as a real incremental export does: leads and opportunities whole, activities a part per month."""
    folder.mkdir(parents=True, exist_ok=True)
    crm.leads.to_parquet(folder / "leads.parquet", index=False)
    crm.opportunities.to_parquet(folder / "opportunities.parquet", index=False)
    month = crm.activities["occurred_at"].dt.strftime("%Y-%m")
    for name, part in crm.activities.groupby(month):
        if months is None or name in months:
            (folder / "activities" / f"month={name}").mkdir(parents=True, exist_ok=True)
            part.to_parquet(folder / "activities" / f"month={name}" / "part.parquet", index=False)


def test_scores_from_reused_parts_equal_a_full_loads_byte_for_byte(trained, trained_crm, tmp_path):
    config = trained[0]
    folder = tmp_path / "crm"
    months = sorted(trained_crm.activities["occurred_at"].dt.strftime("%Y-%m").unique())
    _monthly_parts(trained_crm, folder, months[:-1])
    engine = config.engine.model_copy(update={"validated_store": str(tmp_path / "validated")})
    load_crm(folder, engine)  # the previous night: every part but the last month's validated and recorded
    _monthly_parts(trained_crm, folder)

    def scored(out, engine):
        crm = load_crm(folder, engine)
        score(None, AS_OF, config, crm=crm, out=out, log_to_mlflow=False, history=False)
        return crm.summary.get("validated_parts")

    outcome = scored(tmp_path / "incremental.parquet", engine)
    assert len(outcome.validated) == 1 and len(outcome.reused) == len(months) - 1
    scored(tmp_path / "full.parquet", config.engine.model_copy(update={"reuse_validated_parts": False}))
    assert (tmp_path / "incremental.parquet").read_bytes() == (tmp_path / "full.parquet").read_bytes()
    assert len(pd.read_parquet(tmp_path / "full.parquet")) > 0
