"""Register the features: the built-in families and the plug-ins, each declaration checked as it registers.

A family is a module exposing `declare(settings) -> list[Feature]` (`features.declarations`).
The registry loads, in this order, the built-in families (`BUILT_IN_FAMILIES`), the modules
named in `features.plugins`, and the modules installed under the entry point group
`leadscore.features` (by entry-point name). The built-ins take the very path a plug-in takes:
imported by name, given the same settings, checked by the same rules. So a user adds a
feature, or a whole family, without editing the package: a module of their own, named in
config or declared by their package as

    [project.entry-points."leadscore.features"]
    my_features = "my_company.lead_features"

Every declaration is checked when it registers, before any query is built, and a problem is
a `DeclarationError` naming the feature and the module that declared it: a name that is not
a SQL identifier, is reserved or is declared twice; an unknown family, kind or dtype; SQL that
does not parse as one expression, reads a relation its kind does not have (`features.relations`)
or a column that relation lacks, or runs a subquery (the builder alone decides what a
snapshot may see).
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass, replace
from importlib import metadata

import duckdb

from leadscore.features.declarations import DTYPES, FAMILIES, KINDS, Feature
from leadscore.features.errors import DeclarationError
from leadscore.features.relations import KIND_RELATIONS, RELATIONS, relation_columns
from leadscore.features.settings import FeatureSettings

BUILT_IN_FAMILIES: tuple[str, ...] = ("leadscore.features.explicit", "leadscore.features.implicit", "leadscore.features.negative")
ENTRY_POINT_GROUP = "leadscore.features"
RESERVED_NAMES: tuple[str, ...] = ("sid", "lead_id", "as_of", "label")
"""Columns the feature and training frames already hold beside the features."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SHOWN_PROBLEMS = 10


@dataclass(frozen=True)
class FamilySource:
    """Name one family module to load (`module` or `module:function`) and where it was named."""

    target: str
    origin: str

    @property
    def module(self) -> str:
        """Return the module part of the target."""
        return self.target.partition(":")[0]


def family_sources(settings: FeatureSettings) -> list[FamilySource]:
    """Return the family modules to load under `settings`, in registry order, each once.

    >>> [s.target for s in family_sources(FeatureSettings(features={"plugin_entry_points": False}))]
    ['leadscore.features.explicit', 'leadscore.features.implicit', 'leadscore.features.negative']
    """
    sources = [FamilySource(name, "built in") for name in BUILT_IN_FAMILIES]
    sources += [FamilySource(name, "features.plugins") for name in settings.features.plugins]
    if settings.features.plugin_entry_points:
        sources += entry_point_sources()
    first_named: dict[str, FamilySource] = {}
    for source in sources:
        first_named.setdefault(source.target, source)
    return list(first_named.values())


def entry_point_sources() -> list[FamilySource]:
    """Return the family modules installed under the entry point group `leadscore.features`, by name."""
    found = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    return [FamilySource(ep.value, f"entry point '{ep.name}' of group {ENTRY_POINT_GROUP}") for ep in found]


def pin_plugins(settings: FeatureSettings) -> FeatureSettings:
    """Return `settings` naming every plug-in it loads (entry points included) and looking up no entry points.

    A model records these, so scoring rebuilds exactly the features it was trained on
    whichever plug-in packages are installed or removed since.
    """
    plugins = tuple(s.target for s in family_sources(settings) if s.origin != "built in")
    options = settings.features.model_copy(update={"plugins": plugins, "plugin_entry_points": False})
    return settings.model_copy(update={"features": options})


def all_features(settings: FeatureSettings | None = None) -> list[Feature]:
    """Return every registered feature, checked, in a stable order: the built-in families, then the plug-ins.

    >>> [f.name for f in all_features()][:3]
    ['seniority', 'title_bucket', 'department']
    """
    settings = settings or FeatureSettings()
    found = [feature for source in family_sources(settings) for feature in _declared(source, settings)]
    check_declarations(found, settings)
    return found


def get(name: str, settings: FeatureSettings | None = None) -> Feature:
    """Return the registered feature called `name`."""
    for feature in all_features(settings):
        if feature.name == name:
            return feature
    raise KeyError(f"no registered feature {name!r}")


def feature_names(settings: FeatureSettings | None = None) -> list[str]:
    """Return the names of every registered feature in registry order."""
    return [f.name for f in all_features(settings)]


def _declared(source: FamilySource, settings: FeatureSettings) -> list[Feature]:
    """Import one family module, call its declare function and tag each declaration with the module."""
    where = f"feature plug-in '{source.target}' ({source.origin})"
    try:
        module = importlib.import_module(source.module)
    except Exception as exc:  # any failure of someone else's module on import is theirs to fix, named as theirs
        raise DeclarationError(f"{where} cannot be imported: {type(exc).__name__}: {exc}") from None
    function_name = source.target.partition(":")[2] or "declare"
    declare = getattr(module, function_name, None)
    if not callable(declare):
        raise DeclarationError(f"{where} has no function {function_name}(settings) returning its features")
    try:
        found = declare(settings)
    except DeclarationError:
        raise
    except Exception as exc:
        raise DeclarationError(f"{where}: {function_name}(settings) failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(found, (list, tuple)) or not all(isinstance(f, Feature) for f in found):
        raise DeclarationError(f"{where}: {function_name}(settings) must return a list of "
                               f"leadscore.features.declarations.Feature, not {_described(found)}")
    return [replace(f, module=source.module) for f in found]


def _described(found) -> str:
    if isinstance(found, (list, tuple)):
        odd = next(f for f in found if not isinstance(f, Feature))
        return f"a list holding a {type(odd).__name__} ({odd!r:.60})"
    return f"a {type(found).__name__}"


def check_declarations(features: list[Feature], settings: FeatureSettings) -> None:
    """Raise DeclarationError naming each feature (and its module) the builder could not compute as declared."""
    problems: list[str] = []
    first_of: dict[str, Feature] = {}
    columns = relation_columns(settings)
    computed = {f.name.lower() for f in features if f.kind != "derived"} | {"sid", "lead_id", "as_of"}
    parsed = _column_references([f.sql for f in features])
    for f in features:
        said = f"feature '{f.name}' (module {f.module or 'unknown'})"
        if not isinstance(f.name, str) or not _IDENTIFIER.fullmatch(f.name):
            problems.append(f"{said}: the name must be a SQL identifier (letters, digits and _, not first a digit)")
        elif f.name.lower() in RESERVED_NAMES:
            problems.append(f"{said}: the name is reserved for a column of the frame ({', '.join(RESERVED_NAMES)})")
        elif f.name.lower() in first_of:
            problems.append(f"{said}: the name is already declared by {first_of[f.name.lower()].module}")
        else:
            first_of[f.name.lower()] = f
        for field, value, allowed in (("family", f.family, FAMILIES), ("kind", f.kind, KINDS), ("dtype", f.dtype, DTYPES)):
            if value not in allowed:
                problems.append(f"{said}: {field} {value!r} is not one of {', '.join(allowed)}")
        if f.kind in KINDS:
            problems += [f"{said}: {problem}" for problem in _sql_problems(f, parsed[f.sql], columns, computed)]
    if problems:
        more = f"; and {len(problems) - _SHOWN_PROBLEMS} more" if len(problems) > _SHOWN_PROBLEMS else ""
        raise DeclarationError("; ".join(problems[:_SHOWN_PROBLEMS]) + more)


def _sql_problems(feature: Feature, references: tuple[tuple[str, ...], ...] | str,
                  columns: dict[str, frozenset[str]], computed: set[str]) -> list[str]:
    """Return what is wrong with the relations and columns one declaration's SQL reads."""
    if isinstance(references, str):
        return [f"its sql {feature.sql.strip()!r:.80} {references}"]
    problems = []
    readable = KIND_RELATIONS[feature.kind]
    for parts in references:
        shown = ".".join(parts)
        if feature.kind == "derived":
            if len(parts) != 1:
                problems.append(f"a derived declaration reads other features by name, not {shown}")
            elif parts[0].lower() not in computed:
                problems.append(f"reads '{shown}', which is no feature of another kind than derived "
                                "(derived features read the others' columns, computed first)")
        elif len(parts) != 2:
            problems.append(f"reads '{shown}'; a {feature.kind} declaration names each column through its relation "
                            f"({_listed(readable)})")
        elif parts[0] not in readable:
            problems.append(f"reads {shown}, but a {feature.kind} declaration has no relation '{parts[0]}' "
                            f"(it reads {_listed(readable)})")
        elif parts[1].lower() not in columns[parts[0]]:
            problems.append(f"reads {shown}, which is not a column of {RELATIONS[parts[0]]} "
                            f"(it has {', '.join(sorted(columns[parts[0]]))}"
                            + ("; extra lead columns go in features.extra_lead_columns)" if parts[0] == "l" else ")"))
    return problems


def _listed(aliases: tuple[str, ...]) -> str:
    return ", ".join(f"{a}. ({RELATIONS[a]})" for a in aliases) or "no relation"


_REFERENCES: dict[str, tuple[tuple[str, ...], ...] | str] = {}
"""Column references of each declaration's SQL once parsed (or why it does not parse): the
same text always reads the same columns, and the registry is asked for often."""


def _column_references(sqls: list[str]) -> dict[str, tuple[tuple[str, ...], ...] | str]:
    """Return, for each SQL expression, the column references in it (by DuckDB's own parser), or why it cannot be one."""
    new = sorted({s for s in sqls if s not in _REFERENCES})
    if new:
        with duckdb.connect() as con:
            rows = con.execute("SELECT q, json_serialize_sql('SELECT ' || q) FROM unnest(?) AS u(q)", [new]).fetchall()
        for sql, tree in rows:
            _REFERENCES[sql] = _references_in(json.loads(tree))
    return {s: _REFERENCES[s] for s in sqls}


def _references_in(tree: dict) -> tuple[tuple[str, ...], ...] | str:
    """Return the column references of a parsed `SELECT <expression>`, or the reason it is not one expression."""
    if tree.get("error"):
        return f"does not parse: {tree.get('error_message')}"
    statements = tree["statements"]
    node = statements[0]["node"] if len(statements) == 1 else {}
    if node.get("type") != "SELECT_NODE" or len(node["select_list"]) != 1 or node["from_table"]["type"] != "EMPTY" \
            or node.get("where_clause") or node.get("group_expressions") or node.get("having"):
        return "is not one SQL expression"
    found: list[tuple[str, ...]] = []
    if not _collect(node["select_list"][0], frozenset(), found):
        return "runs a subquery; a declaration reads only the relations of its kind"
    return tuple(dict.fromkeys(found))


def _collect(node, bound: frozenset[str], found: list[tuple[str, ...]]) -> bool:
    """Append the column references under `node` (not a lambda's own parameters); False on a subquery."""
    if isinstance(node, list):
        return all(_collect(item, bound, found) for item in node)
    if not isinstance(node, dict):
        return True
    kind = node.get("class")
    if kind == "SUBQUERY":
        return False
    if kind == "COLUMN_REF":
        parts = tuple(node["column_names"])
        if not (len(parts) == 1 and parts[0] in bound):
            found.append(parts)
        return True
    if kind == "LAMBDA":
        names = {p["column_names"][-1] for p in _lambda_parameters(node.get("lhs"))}
        return _collect(node.get("expr"), bound | names, found)
    return all(_collect(value, bound, found) for value in node.values())


def _lambda_parameters(lhs) -> list[dict]:
    """Return the COLUMN_REF nodes naming a lambda's parameters (`x -> ...` or `(x, y) -> ...`)."""
    if isinstance(lhs, dict) and lhs.get("class") == "COLUMN_REF":
        return [lhs]
    if isinstance(lhs, dict):  # several parameters parse as row(a, b)
        return [p for argument in lhs.get("arguments", []) for p in _lambda_parameters(argument.get("expression"))]
    return []
