"""The report leads with the decision and reads on a phone: each section a reader looks for is in the HTML."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from bs4 import BeautifulSoup

from leadscore.pipeline.config import load_config
from leadscore.pipeline.evaluation import evaluate_scorers, write_report
from leadscore.pipeline.evaluation.decision import same_volume

from leadscore.pipeline.evaluation.explained import choose_examples

from .test_explained import fitted_explainer
from .test_report import THRESHOLDS, tiny_frame


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    frame = tiny_frame()
    evaluation = evaluate_scorers(frame, load_config(), THRESHOLDS)
    evaluation.describe_model("7", True, "beats the points table by 0.08 ROC AUC")
    paths = write_report(evaluation, tmp_path_factory.mktemp("report"))
    return frame, BeautifulSoup(paths["html"].read_text(), "html.parser")


def test_the_decision_comes_first_with_version_champion_windows_and_generation_time(page):
    _, soup = page
    sections = [s["id"] for s in soup.find_all("section")]
    assert sections[0] == "decision"
    decision = soup.find("section", id="decision")
    assert decision.find(class_="headline").get_text().startswith("Use the model for hand-offs")
    facts = {dt.get_text(): dt.find_next_sibling("dd").get_text() for dt in decision.find_all("dt")}
    assert facts["model version"] == "7" and facts["champion"].startswith("yes")
    assert "beats the points table" in facts["champion"]
    assert facts["tested on"].startswith("2025-01-01 to ") and "distinct leads" in facts["tested on"]
    assert facts["generated"].endswith("UTC")


def test_the_same_volume_table_shows_each_points_threshold_with_both_scorers_wins(page):
    frame, soup = page
    table = soup.find(id="same-volume").find_next("table")
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in table.find_all("tr")[1:]]
    assert [r[0] for r in rows] == ["MQL ≥ 50", "hot ≥ 80"]
    expected = same_volume(frame, THRESHOLDS)
    for row, (_, want) in zip(rows, expected.iterrows()):
        assert row[1].startswith(f"{want['passed']:,}") and row[4] == f"{want['rule_wins']:,}" and row[6] == f"{want['model_wins']:,}"
        top = frame.sort_values("model_proba", ascending=False, kind="stable").head(want["passed"])
        assert want["model_wins"] == top["label"].sum()  # the model's pick is its top leads of the same number


def test_the_page_reads_at_phone_width_and_shows_the_score_distribution(page):
    _, soup = page
    assert "width=device-width" in soup.find("meta", attrs={"name": "viewport"})["content"]
    assert all(t.parent.get("class") == ["scroll"] for t in soup.find_all("table"))
    assert soup.find("section", id="distribution").find("img")["src"].startswith("data:image/png;base64,")


def test_a_threshold_that_passes_nobody_is_flagged(tmp_path):
    frame = tiny_frame()
    evaluation = evaluate_scorers(frame, load_config(), {"MQL": 50, "hot": float(frame["rule_points"].max() + 1)})
    soup = BeautifulSoup(write_report(evaluation, tmp_path)["html"].read_text(), "html.parser")
    audit = soup.find("section", id="threshold-audit")
    rows = {tr.find_all("td")[1].get_text(): tr for tr in audit.find_all("tr")[1:]}
    hot = next(tr for name, tr in rows.items() if name.startswith("hot"))
    assert "passes nobody" in hot.get_text() and "nan" not in hot.get_text()
    assert np.isfinite(evaluation.comparison["rule_wins"]).all()


@pytest.fixture(scope="module")
def explained_page(tmp_path_factory):
    explainer = fitted_explainer("logistic")
    config = load_config()
    evaluation = evaluate_scorers(explainer.scored, config, THRESHOLDS, explainer=explainer)
    paths = write_report(evaluation, tmp_path_factory.mktemp("explained"))
    return explainer, paths, BeautifulSoup(paths["html"].read_text(), "html.parser")


def test_the_top_factors_are_worded_and_sorted_by_the_size_of_their_contribution(explained_page):
    _, paths, soup = explained_page
    rows = [[tr.find(class_="factor").get_text(), *[td.get_text(" ", strip=True) for td in tr.find_all("td")[1:]],
             tr.find(class_="dir").get_text()] for tr in soup.find("section", id="top-factors").find_all("tr")[1:]]
    assert 3 <= len(rows) <= 10
    sizes = [float(r[1]) for r in rows]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 0
    assert all("_" not in r[0] for r in rows) and "Number of web visits in the last 30 days" in [r[0] for r in rows]
    direction = {r[0]: r[-1] for r in rows}  # the simulated wins follow web visits and senior titles; unsubscribing costs
    assert direction["Number of web visits in the last 30 days"] == "more raises the score"
    assert direction["Seniority level"].startswith("highest for C level") or direction["Seniority level"].startswith("highest for Vp")
    assert "## What moves the model's scores" in paths["markdown"].read_text()
    factors = json.loads(paths["json"].read_text())["explained"]["factors"]
    assert [f["label"] for f in factors] == [r[0] for r in rows]


def test_example_leads_show_the_frames_probabilities_and_no_lead_id_reaches_any_output(explained_page):
    explainer, paths, soup = explained_page
    cards = soup.find("section", id="example-leads").find_all(class_="lead")
    picks = choose_examples(explainer.scored, load_config().grades.hot)
    assert [c.find("h3").get_text() for c in cards] == [f"Lead {x}" for x in "ABCD"[:len(picks)]]
    for card, (_, i) in zip(cards, picks):
        model = card.find("dt", string="model").find_next_sibling("dd").get_text()
        assert model.startswith(f"{explainer.scored['model_proba'].iloc[i]:.1%}")
        assert card.find("dt", string="outcome").find_next_sibling("dd").get_text().startswith(
            "won" if explainer.scored["label"].iloc[i] else "not won")
    examples = json.loads(paths["json"].read_text())["explained"]["examples"]
    for card, x in zip(cards, examples):  # each reason list as the scores file holds it, under its heading
        lists = [[li.get_text() for li in ul.find_all("li")] for ul in card.find_all("ul")]
        assert lists == [x["reasons_model_up"] or ["—"], x["reasons_model_down"] or ["—"], x["reasons_rule"] or ["no rule scored"]]
    ids = set(explainer.scored["lead_id"])
    for path in paths.values():
        text = path.read_text()
        assert not [i for i in ids if i in text] and "crm-lead-" not in text
    assert [x["probability"] for x in examples] == explainer.scored["model_proba"].iloc[[i for _, i in picks]].tolist()


def test_a_report_without_an_explainer_has_no_factor_or_example_section(page):
    _, soup = page
    assert soup.find("section", id="top-factors") is None and soup.find("section", id="example-leads") is None


def _without_images(text: str) -> str:
    """Return a report's text with its embedded PNGs cut out (base64 can hold any short string by chance)."""
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)


def test_a_trained_models_report_explains_its_held_out_leads_and_names_none_of_them(trained, trained_crm):
    config, _, result = trained
    figures = json.loads(result.report_paths["json"].read_text())["explained"]
    frame = result.test_frame
    assert figures["rows"] == len(frame) and figures["explained_rows"] == min(len(frame), 2000)
    sizes = [f["mean_abs"] for f in figures["factors"]]
    assert len(sizes) == 10 and sizes == sorted(sizes, reverse=True)
    assert all("_" not in f["label"] for f in figures["factors"])
    picks = choose_examples(frame, config.grades.hot)
    assert [x["probability"] for x in figures["examples"]] == frame["model_proba"].iloc[[i for _, i in picks]].tolist()
    assert figures["examples"][0]["reasons_model_up"]  # the top lead is hot: the scores file would give it reasons too
    leads = trained_crm.leads
    personal = {*frame["lead_id"].astype(str), *leads["email"].dropna(), *leads["company_name"].dropna()}
    for kind in ("html", "markdown", "json"):
        text = _without_images(result.report_paths[kind].read_text())
        assert "Lead A" in text and not [p for p in personal if p in text], kind
