"""Declare features once: name, family, how to compute it, and how to say it in plain words.

A feature is a small declaration, never a function that scans the events itself: the
builder compiles every declaration into one query. The family is the module that declares
it (`explicit`, `implicit`, `negative`); the registry collects them in a stable order for
the builder, the points-table checks, the reasons and `leadscore features --list`.

Three kinds of declaration:
- `lead`: an expression over the lead row `l` and the snapshot `s` (who the lead is);
- `event`: an aggregate over the snapshot's visible events `e` (only events strictly
  before `as_of`; the builder alone decides that), with `e.age_days` the event's age;
- `opportunity`: an aggregate over the snapshot's visible opportunities `o` (opened strictly
  before `as_of`), with `o.age_days` the days since it was opened;
- `day`: an aggregate over the days with the lead's own activity before `as_of` (`d.age_days`
  is the age of the day's first event), for distinct-day counts without a DISTINCT;
- `derived`: an expression over other features' columns, computed after the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.config import Config

FAMILIES: tuple[str, ...] = ("explicit", "implicit", "negative")
KINDS: tuple[str, ...] = ("lead", "event", "opportunity", "day", "derived")
DTYPES: tuple[str, ...] = ("category", "float", "int", "bool")


@dataclass(frozen=True)
class Feature:
    """Describe one feature column: what it is, how to compute it, how to explain it."""

    name: str
    family: str
    description: str
    kind: str
    sql: str
    dtype: str
    reason: str = ""  # plain-words template with {value}, e.g. "{value:.0f} unopened emails in a row"

    def __post_init__(self) -> None:
        if self.family not in FAMILIES or self.kind not in KINDS or self.dtype not in DTYPES:
            raise ValueError(f"feature {self.name!r}: bad family/kind/dtype {self.family}/{self.kind}/{self.dtype}")

    def explain(self, value) -> str:
        """Return the feature's value in plain words (its reason template, or name = value)."""
        if self.reason:
            try:
                return self.reason.format(value=value)
            except (ValueError, TypeError):
                pass
        return f"{self.description}: {value}"


def all_features(config: Config | None = None) -> list[Feature]:
    """Return every registered feature, explicit then implicit then negative, in a stable order."""
    from features import explicit, implicit, negative

    config = config or Config()
    found = explicit.declare(config) + implicit.declare(config) + negative.declare(config)
    names = [f.name for f in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"feature names declared twice: {sorted(duplicates)}")
    return found


def get(name: str, config: Config | None = None) -> Feature:
    """Return the registered feature called `name`."""
    for feature in all_features(config):
        if feature.name == name:
            return feature
    raise KeyError(f"no registered feature {name!r}")


def by_family(family: str, config: Config | None = None) -> list[Feature]:
    """Return the features of one family."""
    return [f for f in all_features(config) if f.family == family]


def feature_names(config: Config | None = None) -> list[str]:
    """Return the names of every registered feature in registry order."""
    return [f.name for f in all_features(config)]


# --- constructors that keep declarations to one line --------------------------------------

def quoted(values) -> str:
    """Return a SQL list of string literals, for declarations built from config values.

    >>> quoted(["a", "b'c"])
    "('a', 'b''c')"
    """
    return "(" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + ")"


def event_filter(activity_type: str | None = None, days: int | None = None, extra: str | None = None) -> str:
    """Return the condition selecting events of one type within the last `days` days."""
    parts = []
    if activity_type:
        parts.append(f"e.activity_type = '{activity_type}'")
    if days is not None:
        parts.append(f"e.age_days <= {days}")
    if extra:
        parts.append(extra)
    return " AND ".join(parts) if parts else "TRUE"


def count_events(name: str, family: str, description: str, reason: str = "", **where) -> Feature:
    """Declare a count of the visible events matching `where` (see `event_filter`)."""
    return Feature(name, family, description, "event", f"count(*) FILTER (WHERE {event_filter(**where)})", "int", reason)


def days_since(name: str, family: str, description: str, condition: str, reason: str = "") -> Feature:
    """Declare the days since the latest visible event matching `condition` (NaN if none)."""
    return Feature(name, family, description, "event", f"min(e.age_days) FILTER (WHERE {condition})", "float", reason)
