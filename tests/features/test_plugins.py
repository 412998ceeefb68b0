"""Feature plug-ins: a user's module adds features without editing the package, and each declaration is checked as it registers."""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from importlib.metadata import EntryPoint

import pandas as pd
import pytest

from leadscore.features.builder import build_features
from leadscore.features.crm import crm_from_frames
from leadscore.features.errors import BadInputError, DeclarationError
from leadscore.features.registry import BUILT_IN_FAMILIES, all_features, family_sources, pin_plugins
from leadscore.features.settings import FeatureSettings
from .tiny_crm import tiny_tables, ts

FIRMOGRAPHICS = '''
from leadscore.features.declarations import Feature, total

def declare(settings):
    """Declare features a company cares about that leadscore does not ship."""
    return [
        Feature("is_mid_market", "explicit", "Company of 100-999 employees", "lead",
                "coalesce(l.company_size BETWEEN 100 AND 999, FALSE)", "bool", "works at a mid-market company"),
        Feature("site_visits_total", "implicit", "Web visits ever", "event",
                total("t.n", "t.activity_type = 'web_visit'"), "int", "{value:.0f} web visits"),
        Feature("site_visits_per_week", "implicit", "Web visits per week since the lead was created", "derived",
                "CAST(site_visits_total AS DOUBLE) * 7 / greatest(lead_age_days, 1.0)", "float"),
    ]
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """Write a module of the given source into a folder on sys.path and return its (unique) name."""
    monkeypatch.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def write(source: str, prefix: str = "lead_plugin") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        importlib.invalidate_caches()
        written.append(name)
        return name

    yield write
    for name in written:
        sys.modules.pop(name, None)


def _declaring(*features: str) -> str:
    """Return the source of a plug-in module declaring the given `Feature(...)` expressions."""
    body = ",\n        ".join(features)
    return f"from leadscore.features.declarations import Feature\n\ndef declare(settings):\n    return [\n        {body},\n    ]\n"


def test_a_plugin_named_in_the_settings_adds_its_features_to_the_built_frame(plugin):
    module = plugin(FIRMOGRAPHICS)
    settings = FeatureSettings(features={"plugins": [module]})
    registered = all_features(settings)
    assert [f.name for f in registered[-3:]] == ["is_mid_market", "site_visits_total", "site_visits_per_week"]
    assert {f.module for f in registered[-3:]} == {module}
    assert {f.module for f in registered[:-3]} == set(BUILT_IN_FAMILIES)
    snaps = pd.DataFrame({"lead_id": ["A", "B", "C"], "as_of": [ts("2024-03-01")] * 3})
    frame = build_features(crm_from_frames(*tiny_tables()), snaps, settings).set_index("lead_id")
    assert frame["is_mid_market"].to_dict() == {"A": True, "B": False, "C": False}  # 500, unknown and 40 employees
    assert frame["site_visits_total"].to_dict() == {"A": 2, "B": 1, "C": 1}  # A's visit of 10 March is after as_of
    assert frame.loc["A", "site_visits_per_week"] == pytest.approx(2 * 7 / 60)  # created 60 days before as_of
    assert "is_mid_market" not in build_features(crm_from_frames(*tiny_tables()), snaps, FeatureSettings()).columns


def test_a_plugin_function_can_be_named_beside_its_module(plugin):
    module = plugin(FIRMOGRAPHICS.replace("def declare(", "def declare_firmographics("))
    names = [f.name for f in all_features(FeatureSettings(features={"plugins": [f"{module}:declare_firmographics"]}))]
    assert "is_mid_market" in names


def test_an_installed_entry_point_registers_its_family_and_a_model_records_it_by_name(plugin, monkeypatch):
    module = plugin(FIRMOGRAPHICS)
    calls = []

    def entry_points(group):
        calls.append(group)
        return [EntryPoint(name="firmographics", value=module, group=group)]

    monkeypatch.setattr("leadscore.features.registry.metadata.entry_points", entry_points)
    settings = FeatureSettings()
    assert "is_mid_market" in [f.name for f in all_features(settings)]
    assert calls and set(calls) == {"leadscore.features"}
    assert [s.origin for s in family_sources(settings)][-1] == "entry point 'firmographics' of group leadscore.features"
    assert "is_mid_market" not in [f.name for f in all_features(FeatureSettings(features={"plugin_entry_points": False}))]
    pinned = pin_plugins(settings)
    assert pinned.features.plugins == (module,) and pinned.features.plugin_entry_points is False
    monkeypatch.setattr("leadscore.features.registry.metadata.entry_points",
                        lambda group: pytest.fail("pinned settings look up no entry points"))
    assert "is_mid_market" in [f.name for f in all_features(pinned)]


def test_a_plugin_named_twice_registers_once(plugin, monkeypatch):
    module = plugin(FIRMOGRAPHICS)
    monkeypatch.setattr("leadscore.features.registry.metadata.entry_points",
                        lambda group: [EntryPoint(name="firmographics", value=module, group=group)])
    names = [f.name for f in all_features(FeatureSettings(features={"plugins": [module]}))]
    assert names.count("is_mid_market") == 1


BAD_DECLARATIONS = [
    ('Feature("seniority", "explicit", "Seniority", "lead", "l.seniority", "category")',
     "feature 'seniority' (module {module}): the name is already declared by leadscore.features.explicit"),
    ('Feature("Seniority", "explicit", "Seniority", "lead", "l.seniority", "category")',
     "feature 'Seniority' (module {module}): the name is already declared by leadscore.features.explicit"),
    ('Feature("2fast", "explicit", "Fast", "lead", "l.seniority", "category")',
     "feature '2fast' (module {module}): the name must be a SQL identifier"),
    ('Feature("my-score", "explicit", "Score", "lead", "l.seniority", "category")',
     "feature 'my-score' (module {module}): the name must be a SQL identifier"),
    ('Feature("label", "explicit", "Label", "lead", "l.seniority", "category")',
     "feature 'label' (module {module}): the name is reserved for a column of the frame"),
    ('Feature("fit", "firmographic", "Fit", "lead", "l.seniority", "category")',
     "feature 'fit' (module {module}): family 'firmographic' is not one of explicit, implicit, negative"),
    ('Feature("fit", "explicit", "Fit", "leads", "l.seniority", "category")',
     "feature 'fit' (module {module}): kind 'leads' is not one of lead, event, email, opportunity, day, derived"),
    ('Feature("fit", "explicit", "Fit", "lead", "l.seniority", "string")',
     "feature 'fit' (module {module}): dtype 'string' is not one of category, float, int, bool"),
    ('Feature("fit", "explicit", "Fit", "lead", "l.annual_revenue > 0", "bool")',
     "feature 'fit' (module {module}): reads l.annual_revenue, which is not a column of the lead row"),
    ('Feature("visits_45d", "implicit", "Visits", "event", "sum(t.n_45d)", "int")',
     "feature 'visits_45d' (module {module}): reads t.n_45d, which is not a column of the event summaries"),
    ('Feature("fit", "explicit", "Fit", "lead", "t.n > 0", "bool")',
     "feature 'fit' (module {module}): reads t.n, but a lead declaration has no relation 't' (it reads l. (the lead row), s. (the snapshot))"),
    ('Feature("fit", "explicit", "Fit", "lead", "company_size > 10", "bool")',
     "feature 'fit' (module {module}): reads 'company_size'; a lead declaration names each column through its relation"),
    ('Feature("fit", "explicit", "Fit", "derived", "no_such_feature * 2", "float")',
     "feature 'fit' (module {module}): reads 'no_such_feature', which is no feature of another kind than derived"),
    ('Feature("fit", "explicit", "Fit", "derived", "days_inactive * 2", "float")',  # derived itself: computed in the same pass
     "feature 'fit' (module {module}): reads 'days_inactive', which is no feature of another kind than derived"),
    ('Feature("fit", "explicit", "Fit", "lead", "l.email LIKE", "bool")',
     "feature 'fit' (module {module}): its sql 'l.email LIKE' does not parse"),
    ('Feature("fit", "explicit", "Fit", "lead", "l.email, l.country", "bool")',
     "feature 'fit' (module {module}): its sql 'l.email, l.country' is not one SQL expression"),
    ('Feature("fit", "implicit", "Fit", "event", "(SELECT count(*) FROM activities)", "int")',
     "feature 'fit' (module {module}): its sql '(SELECT count(*) FROM activities)' runs a subquery"),
]


@pytest.mark.parametrize(("declaration", "message"), BAD_DECLARATIONS)
def test_a_bad_declaration_is_refused_when_it_registers_naming_it_and_its_module(plugin, declaration, message):
    module = plugin(_declaring(declaration))
    with pytest.raises(DeclarationError) as error:
        all_features(FeatureSettings(features={"plugins": [module]}))
    assert message.format(module=module) in str(error.value)
    assert isinstance(error.value, BadInputError)  # the CLI prints it as bad input (exit 2)


def test_a_name_declared_by_two_plugins_names_both_modules(plugin):
    declaration = 'Feature("fit_score", "explicit", "Fit", "lead", "l.company_size", "float")'
    first, second = plugin(_declaring(declaration)), plugin(_declaring(declaration))
    with pytest.raises(DeclarationError, match=f"feature 'fit_score' \\(module {second}\\): the name is already declared by {first}"):
        all_features(FeatureSettings(features={"plugins": [first, second]}))


def test_a_lead_column_the_config_declares_may_be_read(plugin):
    module = plugin(_declaring('Feature("revenue", "explicit", "Revenue", "lead", "l.annual_revenue", "float")'))
    options = {"plugins": [module], "extra_lead_columns": ["annual_revenue"]}
    assert "revenue" in [f.name for f in all_features(FeatureSettings(features=options))]


@pytest.mark.parametrize(("source", "message"), [
    ("import no_such_dependency_xyz\n", "cannot be imported: ModuleNotFoundError: No module named 'no_such_dependency_xyz'"),
    ("X = 1\n", "has no function declare(settings) returning its features"),
    ("def declare(settings):\n    return {'name': 'fit'}\n", "declare(settings) must return a list of leadscore.features.declarations.Feature, not a dict"),
    ("def declare(settings):\n    return [settings.features.no_such_option]\n", "declare(settings) failed: AttributeError"),
])
def test_a_plugin_module_that_cannot_declare_is_named(plugin, source, message):
    module = plugin(source)
    with pytest.raises(DeclarationError, match=f"feature plug-in '{module}' \\(features.plugins\\)") as error:
        all_features(FeatureSettings(features={"plugins": [module]}))
    assert message in str(error.value)


def test_a_plugin_that_is_not_installed_is_named():
    with pytest.raises(DeclarationError, match="feature plug-in 'my_company.lead_features' \\(features.plugins\\) cannot be "
                                               "imported: ModuleNotFoundError: No module named 'my_company'"):
        all_features(FeatureSettings(features={"plugins": ["my_company.lead_features"]}))


def test_a_plugin_name_that_is_no_module_name_is_refused_by_the_settings():
    with pytest.raises(ValueError, match="'my company/features': a plug-in is a module name"):
        FeatureSettings(features={"plugins": ["my company/features"]})


def test_the_built_in_families_register_through_the_plugin_path(monkeypatch):
    imported = []
    real = importlib.import_module
    monkeypatch.setattr("leadscore.features.registry.importlib.import_module", lambda name: imported.append(name) or real(name))
    all_features(FeatureSettings(features={"plugin_entry_points": False}))
    assert imported == list(BUILT_IN_FAMILIES)
