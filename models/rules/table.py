"""Parse a points table from YAML into typed rules, and check it against the feature registry.

A table that names an unknown feature, or a condition that can never be true for that
feature (a `between` whose low is above its high, an empty `in`, a number compared with a
category), is an error naming the file and the rule id, before any lead is scored.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from leadscore.features.settings import ROLES
from leadscore.features.yaml_files import UniqueKeyLoader
from leadscore.models.errors import BadInputError

CONDITIONS: tuple[str, ...] = ("at_least", "equals", "in", "between")
STAGES: tuple[str, ...] = ("lead", "MQL", "SQL")
SEGMENTS: tuple[str, ...] = ("leave", "nurture", "hot")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Decay(_Strict):
    """Shrink a rule's points with the age (in days) of the latest qualifying activity."""

    age_feature: str
    half_life_days: float | None = Field(None, gt=0)
    within_days: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_kind(self) -> Decay:
        if (self.half_life_days is None) == (self.within_days is None):
            raise ValueError("decay needs exactly one of half_life_days or within_days")
        return self


class Condition(_Strict):
    """Exactly one of: at_least, equals, in, between."""

    at_least: float | None = None
    equals: bool | float | str | None = None
    in_: list[str | float] | None = Field(None, alias="in")
    between: tuple[float, float] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [name for name in ("at_least", "equals", "in_", "between") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a condition needs exactly one of {', '.join(CONDITIONS)}")
        return self

    @property
    def kind(self) -> str:
        """Return the condition's name (at_least, equals, in, between)."""
        for name in ("at_least", "equals", "between"):
            if getattr(self, name) is not None:
                return name
        return "in"

    def describe(self) -> str:
        """Return the condition in words, e.g. '>= 4' or 'in [vp, director]'."""
        kind = self.kind
        if kind == "at_least":
            return f">= {self.at_least:g}"
        if kind == "equals":
            return f"= {self.equals}"
        if kind == "between":
            return f"between {self.between[0]:g} and {self.between[1]:g}"
        return f"in [{', '.join(str(v) for v in self.in_)}]"


class Rule(_Strict):
    """Give `points` to a lead whose `feature` meets `condition`."""

    id: str
    feature: str
    condition: Condition
    points: float
    label: str | None = None
    decay: Decay | None = None
    per: float | None = Field(None, gt=0)  # points for every `per` units of the feature
    cap: float | None = None  # the most (or, for negative rules, the least) this rule can give

    @property
    def text(self) -> str:
        """Return what the rule rewards or penalises, in plain words."""
        return self.label or self.id.replace("_", " ")


class Limits(_Strict):
    """Clip a sum of points to [min, max]."""

    min: float = float("-inf")
    max: float = float("inf")

    @model_validator(mode="after")
    def _min_at_most_max(self) -> Limits:
        if self.min > self.max:  # clipping would then give every lead the max, whatever it did
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self


class Thresholds(_Strict):
    """Points from which a lead becomes MQL / SQL, and nurture / hot."""

    stages: dict[str, float]
    segments: dict[str, float]


class PointsTable(_Strict):
    """A whole points table: rules, family caps, total limits and thresholds."""

    name: str = "custom"
    version: int | str = 1
    rules: list[Rule]
    caps: dict[str, Limits] = Field(default_factory=dict)
    total: Limits = Limits()
    thresholds: Thresholds
    source: str = "<memory>"

    def rule(self, rule_id: str) -> Rule:
        """Return the rule with id `rule_id`."""
        return next(r for r in self.rules if r.id == rule_id)


def condition_text(rule: Rule) -> str:
    """Return a rule's condition as a marketing-automation tool would take it.

    >>> condition_text(Rule(id="d", feature="demo_request_count_30d", condition={"at_least": 1}, points=50,
    ...                     decay={"half_life_days": 14, "age_feature": "days_since_last_demo_request"}))
    'demo_request_count_30d >= 1, halving every 14 days since days_since_last_demo_request'
    """
    c = rule.condition
    text = f"{rule.feature} <= {c.between[1]:g}" if c.kind == "between" and c.between[0] == 0 else f"{rule.feature} {c.describe()}"
    if rule.decay is not None:
        d = rule.decay
        text += (f", halving every {d.half_life_days:g} days since {d.age_feature}" if d.half_life_days
                 else f", while {d.age_feature} <= {d.within_days:g}")
    if rule.per is not None:
        text += f", per {rule.per:g}"
    if rule.cap is not None:
        text += f", at most {rule.cap:+g}"
    return text


def table_to_yaml(table: PointsTable) -> str:
    """Return the table as the YAML `load_points_table` reads (one rule a line), so a written table loads back equal.

    >>> table = load_points_table()
    >>> parse_points_table(yaml.safe_load(table_to_yaml(table))).rules == table.rules
    True
    """
    data = table.model_dump(by_alias=True, exclude_none=True, exclude={"source"}, mode="python")
    data["rules"] = [_plain(rule) for rule in data["rules"]]
    data["caps"] = {family: _finite(limits) for family, limits in data["caps"].items()}
    data["total"] = _finite(data["total"])
    head = {k: data[k] for k in ("name", "version")}
    body = {k: data[k] for k in ("rules", "caps", "total", "thresholds")}
    return (yaml.safe_dump(head, sort_keys=False) + "\n" +
            yaml.safe_dump(body, sort_keys=False, default_flow_style=None, width=200, allow_unicode=True))


def table_to_csv(table: PointsTable) -> str:
    """Return the rules as CSV (rule, condition, points) to paste into a marketing-automation tool."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["rule", "condition", "points"])
    for rule in table.rules:
        writer.writerow([rule.text, condition_text(rule), f"{rule.points:g}"])
    return buffer.getvalue()


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _finite(limits: dict) -> dict:
    return {k: _plain(v) for k, v in limits.items() if v not in (float("inf"), float("-inf"))}


def default_table_path() -> Path:
    """Return the path of the packaged default points table."""
    return Path(str(resources.files("leadscore.models").joinpath("conf/points.yaml")))


def load_points_table(path: str | Path | None = None) -> PointsTable:
    """Read and type-check a points table (default: the packaged one); errors name file, rule and key.

    >>> table = load_points_table()
    >>> table.rule("unsubscribed").points
    -100.0
    """
    path = Path(path) if path else default_table_path()
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)
    except FileNotFoundError:
        raise BadInputError(f"{path}: points table not found") from None
    except yaml.YAMLError as exc:
        raise BadInputError(f"{path}: not valid YAML: {exc}") from None
    return parse_points_table(data, source=str(path))


def parse_points_table(data: Any, source: str = "<memory>") -> PointsTable:
    """Type-check a points table given as a dict; errors name the source, the rule id and the key."""
    if not isinstance(data, dict):
        raise BadInputError(f"{source}: a points table must be a mapping with rules, caps, total and thresholds")
    try:
        table = PointsTable.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise BadInputError(f"{source}: " + "; ".join(_explain(err, data) for err in exc.errors())) from None
    _check_structure(table)
    return table


def _explain(err: dict, data: dict) -> str:
    loc = list(err["loc"])
    where = ".".join(str(p) for p in loc)
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules") or []
        rule_id = rules[loc[1]].get("id", f"#{loc[1] + 1}") if loc[1] < len(rules) and isinstance(rules[loc[1]], dict) else f"#{loc[1] + 1}"
        rest = ".".join(str(p) for p in loc[2:]) or "rule"
        return f"rule '{rule_id}', key '{rest}': {err['msg']}"
    return f"key '{where}': {err['msg']}"


def _check_structure(table: PointsTable) -> None:
    ids = [r.id for r in table.rules]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise BadInputError(f"{table.source}: rule ids must be unique; repeated: {', '.join(twice)}")
    for rule in table.rules:
        c = rule.condition
        if c.kind == "between" and c.between[0] > c.between[1]:
            raise BadInputError(f"{table.source}: rule '{rule.id}': impossible condition between {c.between[0]:g} and {c.between[1]:g} (low above high)")
        if c.kind == "in" and not c.in_:
            raise BadInputError(f"{table.source}: rule '{rule.id}': impossible condition: 'in' with an empty list")
        if rule.cap is not None and rule.cap * rule.points < 0:
            raise BadInputError(f"{table.source}: rule '{rule.id}': cap {rule.cap:g} has the opposite sign of points {rule.points:g}")
    unknown_stages = set(table.thresholds.stages) - {"MQL", "SQL"}
    unknown_segments = set(table.thresholds.segments) - {"nurture", "hot"}
    if unknown_stages or unknown_segments or set(table.thresholds.stages) != {"MQL", "SQL"} or set(table.thresholds.segments) != {"nurture", "hot"}:
        raise BadInputError(f"{table.source}: thresholds need stages MQL and SQL and segments nurture and hot")
    if table.thresholds.stages["MQL"] > table.thresholds.stages["SQL"] or table.thresholds.segments["nurture"] > table.thresholds.segments["hot"]:
        raise BadInputError(f"{table.source}: thresholds must rise: MQL <= SQL and nurture <= hot")


def check_against_registry(table: PointsTable, features: dict) -> None:
    """Raise if a rule names an unknown feature or a condition that cannot fit its type.

    `features` maps feature name to its registry entry (with `dtype` and `family`).
    """
    unknown = [f"rule '{rule.id}' names unknown feature '{name}'" for rule in table.rules
               for name in [rule.feature] + ([rule.decay.age_feature] if rule.decay else []) if name not in features]
    if unknown:  # every one in one message: a table written for another CRM names many
        raise BadInputError(f"{table.source}: {'; '.join(unknown)} (see `leadscore features --list`)")
    for rule in table.rules:
        dtype = features[rule.feature].dtype
        kind = rule.condition.kind
        if dtype == "category" and kind in {"at_least", "between"}:
            raise BadInputError(f"{table.source}: rule '{rule.id}': impossible condition: '{kind}' on category feature '{rule.feature}'")
        if dtype == "bool" and kind != "equals":
            raise BadInputError(f"{table.source}: rule '{rule.id}': flag feature '{rule.feature}' takes 'equals: true' or 'equals: false'")
        if dtype == "bool" and not isinstance(rule.condition.equals, bool):
            raise BadInputError(f"{table.source}: rule '{rule.id}': flag feature '{rule.feature}' can only equal true or false")
        values = rule.condition.in_ if kind == "in" else [rule.condition.equals] if kind == "equals" else []
        if dtype in {"int", "float"} and any(isinstance(v, str) for v in values):
            raise BadInputError(f"{table.source}: rule '{rule.id}': impossible condition: text values for numeric feature '{rule.feature}'")
        if dtype == "category" and any(not isinstance(v, str) for v in values):
            raise BadInputError(f"{table.source}: rule '{rule.id}': impossible condition: numbers or flags for category feature "
                                f"'{rule.feature}' (quote the value: a category is text)")
        if rule.per is not None and dtype not in {"int", "float"}:
            raise BadInputError(f"{table.source}: rule '{rule.id}': 'per' needs a numeric feature, '{rule.feature}' is {dtype}")
    unknown_families = set(table.caps) - {f.family for f in features.values()}
    if unknown_families:
        raise BadInputError(f"{table.source}: caps name unknown families: {', '.join(sorted(unknown_families))}")


FITS_SHARE = 0.5
"""The packaged table fits a CRM when at least this share of its rules name features the CRM produces:
below it the table scores most leads by attributes alone and ranks no better than chance on behaviour."""


def unproduced_rules(table: PointsTable, features: dict, produced_roles: set[str] | None) -> list[str]:
    """Return 'rule (feature)' for each rule naming a feature the CRM cannot produce (none when its roles are unknown).

    A feature counts events of some activity roles (`Feature.roles`); a CRM holding no activity
    of any of them produces it as a constant, and the rule never fires (or always does).
    """
    missing = []
    for rule in table.rules:
        if not _named_features(rule) <= set(features):
            missing.append(f"{rule.id} ({rule.feature}: the leads table lacks its column)")
            continue
        roles = getattr(features.get(rule.feature), "roles", ())
        if produced_roles is not None and roles and not set(roles) & produced_roles:
            missing.append(f"{rule.id} ({rule.feature})")
    return missing


def without_unbuilt_rules(table: PointsTable, features: dict) -> PointsTable:
    """Return `table` without the rules naming a feature the CRM does not build (a lead column its leads table lacks).

    Only the packaged default table is trimmed this way: it is written for a full B2B leads
    table, and a CRM without, say, a seniority column still gets a baseline from its other
    rules (`vocabulary_problem` names the ones left out). A user's own table naming such a
    feature is an error (`check_against_registry`): its author meant every rule.
    """
    kept = [rule for rule in table.rules if _named_features(rule) <= set(features)]
    return table if len(kept) == len(table.rules) else table.model_copy(update={"rules": kept})


def _named_features(rule: Rule) -> set[str]:
    return {rule.feature} | ({rule.decay.age_feature} if rule.decay else set())


def vocabulary_problem(table: PointsTable, features: dict, produced_roles: set[str] | None, packaged: bool,
                       data: str | None = None) -> str | None:
    """Return what to tell a user whose CRM does not produce the features some rules name, or None if it does.

    It names the rules, the activity roles column 'activity_type' never holds and the CRM's own
    types, which hold no built-in role unless declared (`data` names the CRM's source). The
    packaged B2B table is a default only for a CRM it fits (`FITS_SHARE`); below that the
    message says so and points to writing a table of one's own.
    """
    missing = unproduced_rules(table, features, produced_roles)
    if not missing:
        return None
    crm = f"this CRM ({data})" if data else "this CRM"
    text = (f"{table.source}: {len(missing)} of {len(table.rules)} rules name features {crm} does not produce "
            f"(no activity of their types, or a lead column the CRM lacks), so they never score: {', '.join(missing)}")
    absent = sorted({role for rule in table.rules if rule.feature in features
                     for role in getattr(features[rule.feature], "roles", ()) if role not in (produced_roles or {role})})
    if absent:
        own = sorted(t for t in produced_roles if t not in ROLES)
        text += (f"; column 'activity_type' holds no activity of the roles {', '.join(absent)}"
                 + (f" (none of its own types {', '.join(map(repr, own[:10]))}{' and more' if len(own) > 10 else ''} is "
                    "declared with one of them in features.activity_types)" if own else ""))
    if packaged and (len(table.rules) - len(missing)) < FITS_SHARE * len(table.rules):
        text += (f". The packaged B2B points table does not fit this CRM's activity vocabulary (fewer than "
                 f"{FITS_SHARE:.0%} of its rules apply) and ranks its leads no better than chance on behaviour: write a "
                 "points table for your own types (their features: `leadscore features --list --data DIR`) and "
                 "name it in `points_table`")
    return text
