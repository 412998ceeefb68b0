"""A plug-in named in a config file reaches every command: `features --list`, the feature frame, a model's recorded settings."""

from __future__ import annotations

import importlib
import sys
import textwrap

import pandas as pd
import pytest
import yaml

from leadscore.features.registry import all_features
from leadscore.pipeline.cli import main
from leadscore.pipeline.config import feature_settings, load_config, with_feature_settings

PLUGIN = "acme_lead_features"
SOURCE = '''
from leadscore.features.declarations import Feature, total

def declare(settings):
    return [Feature("acme_form_count_ever", "implicit", "Forms submitted ever (Acme's own count)", "event",
                    total("t.n", "t.activity_type = 'form_submit'"), "int", "{value:.0f} forms")]
'''


@pytest.fixture
def plugin_config(tmp_path, monkeypatch):
    """A config file naming a plug-in module written into a folder on sys.path."""
    (tmp_path / f"{PLUGIN}.py").write_text(textwrap.dedent(SOURCE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    path = tmp_path / "leadscore.yaml"
    path.write_text(yaml.safe_dump({"features": {"plugins": [PLUGIN], "plugin_entry_points": False}}), encoding="utf-8")
    yield path
    sys.modules.pop(PLUGIN, None)


def test_features_list_shows_a_plugin_feature_with_its_module(plugin_config, capsys):
    assert main(["features", "--list", "--config", str(plugin_config)]) == 0
    printed = capsys.readouterr().out
    row = next(line for line in printed.splitlines() if "acme_form_count_ever" in line)
    assert f"{PLUGIN} (plug-in)" in row
    assert "unopened_email_streak" in printed


def test_the_features_command_builds_a_plugin_feature(plugin_config, synthetic, synthetic_dir, tmp_path):
    out = tmp_path / "features.parquet"
    assert main(["features", "--data", str(synthetic_dir), "--out", str(out), "--as-of", "2024-06-01", "--config", str(plugin_config)]) == 0
    frame = pd.read_parquet(out).set_index("lead_id")
    forms = synthetic.activities[(synthetic.activities["activity_type"] == "form_submit")
                                 & (synthetic.activities["occurred_at"] < pd.Timestamp("2024-06-01", tz="UTC"))]
    expected = forms.groupby("lead_id").size().reindex(frame.index, fill_value=0)
    assert frame["acme_form_count_ever"].sum() > 0
    pd.testing.assert_series_equal(frame["acme_form_count_ever"], expected, check_names=False, check_dtype=False)


def test_a_model_records_its_plugins_so_scoring_rebuilds_them_under_another_config(plugin_config):
    recorded = feature_settings(load_config(plugin_config))
    assert recorded["features"]["plugins"] == [PLUGIN]
    scoring, changed = with_feature_settings(load_config(), recorded)  # a scheduled job's config names no plug-in
    assert "features.plugins" in changed
    assert "acme_form_count_ever" in [f.name for f in all_features(scoring.for_features)]


def test_a_bad_plugin_declaration_exits_2_naming_it(tmp_path, monkeypatch, capsys):
    (tmp_path / "acme_bad_features.py").write_text(textwrap.dedent('''
        from leadscore.features.declarations import Feature

        def declare(settings):
            return [Feature("acme_fit", "explicit", "Fit", "lead", "l.annual_revenue > 1e6", "bool")]
    '''), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    config = tmp_path / "bad.yaml"
    config.write_text("features:\n  plugins: [acme_bad_features]\n", encoding="utf-8")
    try:
        assert main(["features", "--list", "--config", str(config)]) == 2
    finally:
        sys.modules.pop("acme_bad_features", None)
    err = capsys.readouterr().err
    assert "feature 'acme_fit' (module acme_bad_features): reads l.annual_revenue, which is not a column of the lead row" in err
    assert "Traceback" not in err


def test_a_missing_plugin_module_exits_2_naming_it_and_the_key(tmp_path, capsys):
    config = tmp_path / "missing.yaml"
    config.write_text("features:\n  plugins: [my_company.lead_features]\n", encoding="utf-8")
    assert main(["features", "--list", "--config", str(config)]) == 2
    assert "feature plug-in 'my_company.lead_features' (features.plugins) cannot be imported" in capsys.readouterr().err


def test_a_plugin_name_that_is_no_module_name_is_a_config_error_naming_the_file_and_key(tmp_path, capsys):
    config = tmp_path / "typo.yaml"
    config.write_text("features:\n  plugins: ['my company/features.py']\n", encoding="utf-8")
    assert main(["features", "--list", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{config}: key 'features.plugins'" in err and "a plug-in is a module name" in err
