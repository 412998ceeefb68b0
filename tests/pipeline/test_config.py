"""Configuration: a bad value stops the run before any work, naming the key and where it came from."""

from __future__ import annotations

import pytest

from leadscore.pipeline.config import load_config
from leadscore.pipeline.errors import BadInputError


def _write(tmp_path, text: str):
    path = tmp_path / "leadscore.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("yaml_text", "named"), [
    ("engine:\n  memory_limit: lots\n", r"engine\.memory_limit.*'lots' is not a size"),
    ("windows:\n  first_snapshot: 2025-13-01\n", r"windows\.first_snapshot.*is not a date"),
    # ISO week dates pass date.fromisoformat on Python 3.11+, but pandas cannot read them later
    ("windows:\n  first_snapshot: 2025-W01-1\n", r"windows\.first_snapshot.*is not a date"),
    ("windows:\n  last_snapshot: 2025W011\n", r"windows\.last_snapshot.*is not a date"),
    ("windows:\n  lookback_days: []\n", r"windows\.lookback_days"),
    ("windows:\n  half_lives_days: [7, 0]\n", r"windows\.half_lives_days\.1"),
    ("grades:\n  a: 0.1\n  b: 0.2\n", r"grade floors must rise: c 0.05 <= b 0.2 <= a 0.1"),
    ("grades:\n  nurture: 0.5\n", r"segment floors must rise"),
    ("grades:\n  hot: 1.5\n", r"grades\.hot"),
    ("tracking:\n  promotion_metric: accuracy\n", r"tracking\.promotion_metric"),
])
def test_a_bad_value_in_the_file_names_the_file_and_the_key(tmp_path, yaml_text, named):
    path = _write(tmp_path, yaml_text)
    with pytest.raises(BadInputError, match=named) as raised:
        load_config(path)
    assert str(path) in str(raised.value)


def test_an_unquoted_yaml_date_is_read_as_the_date(tmp_path):
    config = load_config(_write(tmp_path, "windows:\n  first_snapshot: 2025-01-01\n  last_snapshot: '2025-06-01'\n"))
    assert (config.windows.first_snapshot, config.windows.last_snapshot) == ("2025-01-01", "2025-06-01")


def test_good_values_load():
    config = load_config(engine={"memory_limit": "512MB"}, windows={"first_snapshot": "2025-01-01"},
                         grades={"a": 0.4, "b": 0.2, "c": 0.1, "hot": 0.2, "nurture": 0.05},
                         tracking={"promotion_metric": "brier"})
    assert (config.engine.memory_limit, config.tracking.promotion_metric) == ("512MB", "brier")


def test_a_bad_override_is_blamed_on_the_option_not_on_the_file(tmp_path):
    path = _write(tmp_path, "engine:\n  threads: 0\n")
    with pytest.raises(BadInputError) as raised:
        load_config(path, windows={"last_snapshot": "yesterday"})
    message = str(raised.value)
    file_part, option_part = message.split(" | ")
    assert str(path) in file_part and "engine.threads" in file_part and "last_snapshot" not in file_part
    assert option_part.startswith("a command-line option") and "windows.last_snapshot" in option_part


def test_a_model_s_recorded_extra_lead_columns_replace_the_config_s_and_a_list_matches_its_mapping():
    from leadscore.pipeline.config import with_feature_settings

    config = load_config(features={"extra_lead_columns": {"territory": "categorical"}})
    recorded = {"features": {"extra_lead_columns": {"annual_revenue": "numeric"}, "lead_columns": ["country"]}}
    trained, changed = with_feature_settings(config, recorded)
    assert trained.features.extra_lead_columns == {"annual_revenue": "numeric"}
    assert trained.features.lead_columns == ("country",)
    assert changed == ["features.extra_lead_columns"]  # unset lead_columns in the config are the CRM's: no change
    same, changed = with_feature_settings(config, {"features": {"extra_lead_columns": ["territory"]}})
    assert same.features.extra_lead_columns == {"territory": "categorical"} and changed == []
