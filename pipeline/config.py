"""Parse the YAML configuration once into typed objects, composing the settings each layer declares.

The packaged `conf/default.yaml` holds every default; a user file overrides any part of it.
Unknown keys and wrong types are errors that name the file and the key, so a typo never
silently falls back to a default. The `engine`, `windows`, `features` and `population` sections are the
features layer's own settings (`leadscore.features.settings`); the rest are the pipeline's.
"""

from __future__ import annotations

import os
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from leadscore.features.registry import pin_plugins
from leadscore.features.settings import (EngineSettings, FeatureOptions, FeatureSettings, LabelSettings, LifecycleSettings,
                                         PopulationSettings, WindowSettings)
from leadscore.features.yaml_files import UniqueKeyLoader
from leadscore.models.rules.fit import FitSettings
from leadscore.pipeline.errors import BadInputError, SchemaMismatchError
from leadscore.pipeline.promotion import PROMOTION_METRICS

# The user's own MLFLOW_TRACKING_URI, read once: mlflow.set_tracking_uri() writes that variable
# too, and must not make one working folder's store leak into the next config in the process.
_USER_TRACKING_URI = os.environ.get("MLFLOW_TRACKING_URI")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitConfig(_Strict):
    """Time-based split of snapshot dates into train, calibration and test."""

    calibration_share: float = Field(0.2, gt=0, lt=1)
    test_share: float = Field(0.2, gt=0, lt=1)
    min_won: int = Field(40, ge=1)
    min_lost: int = Field(40, ge=1)


class LogisticConfig(_Strict):
    """The logistic-regression family: penalties to choose from on the validation fold, splines, rare categories."""

    C: tuple[float, ...] = Field((0.1, 1.0), min_length=1)  # inverse L2 strength; each value is a candidate
    spline_knots: int = Field(0, ge=0)  # 0: numbers enter as lines; >= 3: a spline basis beside the line
    min_frequency: int = Field(20, ge=1)  # categories seen fewer times are pooled into one column
    # recency half-lives in periods: each competes beside the unweighted fit, at every C (time splits only)
    half_lives: tuple[float, ...] = ()

    @model_validator(mode="after")
    def _positive(self) -> LogisticConfig:
        if any(c <= 0 for c in self.C):
            raise ValueError(f"every C must be above 0, got {list(self.C)}")
        if any(h <= 0 for h in self.half_lives):
            raise ValueError(f"every half-life must be above 0 periods, got {list(self.half_lives)}")
        return self


class ModelConfig(_Strict):
    """Model families, LightGBM parameters and calibration policy."""

    params: dict[str, Any] = Field(default_factory=lambda: {
        "n_estimators": 2000,
        "learning_rate": 0.03,
        "num_leaves": 31,
        "min_child_samples": 50,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "verbose": -1,
    })
    early_stopping_rounds: int = Field(100, ge=1)
    validation_share: float = Field(0.15, gt=0, lt=1)
    isotonic_min_positives: int = Field(200, ge=1)  # isotonic needs enough wins to be smooth; sigmoid below
    seed: int = 0
    leakage_auc: float = Field(0.95, gt=0.5, le=1)  # a feature ranking wins this well alone is refused
    leakage_warn_auc: float = Field(0.85, gt=0.5, le=1)  # from here up to leakage_auc a feature is warned of
    leakage_min_winner_only: int = Field(10, ge=1)  # a column filled on at least this many rows, all winners, is refused
    allow_features: tuple[str, ...] = ()  # leaky-looking features the user vouches for
    families: tuple[Literal["lightgbm", "logistic"], ...] = Field(("lightgbm", "logistic"), min_length=1)
    selection_folds: int = Field(2, ge=1)  # forward folds over the calibration slice that rank the candidates
    logistic: LogisticConfig = LogisticConfig()
    negative_sampling: float = Field(1.0, gt=0, le=1)  # share of non-wins kept for fitting (1: all); calibration sees all
    base_rate_jump: float = Field(1.5, gt=1)  # a period's win rate this many times the previous one's (or 1/x) is drift

    @field_validator("params")
    @classmethod
    def _lightgbm_accepts(cls, params: dict[str, Any]) -> dict[str, Any]:
        from leadscore.models.lgbm import check_params

        check_params(params)  # a bad value is a config error naming it, before any data is read
        return params


class BacktestConfig(_Strict):
    """Rolling-origin backtest: forward folds over the test period, each fitted on everything before it."""

    folds: int = Field(4, ge=1)


class TargetsConfig(_Strict):
    """What Sales can take: the bar a threshold must meet not to be over-generous."""

    min_conversion_rate: float = Field(0.15, gt=0, le=1)
    max_share_to_sales: float = Field(0.10, gt=0, le=1)
    leads_per_week: int | None = None


class GradeConfig(_Strict):
    """Probability floors of grades A-C (below C is D) and of the hot/nurture segments."""

    a: float = Field(0.30, ge=0, le=1)
    b: float = Field(0.15, ge=0, le=1)
    c: float = Field(0.05, ge=0, le=1)
    hot: float = Field(0.15, ge=0, le=1)
    nurture: float = Field(0.03, ge=0, le=1)

    @model_validator(mode="after")
    def _rising(self) -> GradeConfig:
        # out of order, a grade or a segment is never given: with c above a, no lead is ever B or C
        if not self.c <= self.b <= self.a:
            raise ValueError(f"grade floors must rise: c {self.c:g} <= b {self.b:g} <= a {self.a:g}")
        if self.nurture > self.hot:
            raise ValueError(f"segment floors must rise: nurture {self.nurture:g} <= hot {self.hot:g}")
        return self


class TrackingConfig(_Strict):
    """MLflow tracking store, experiment, registered model name and promotion margin."""

    uri: str | None = None  # default: sqlite store in the working folder; MLFLOW_TRACKING_URI wins
    experiment: str = "leadscore"
    scoring_experiment: str | None = None  # where scoring runs go; default: "<experiment>-scoring"
    model_name: str = "leadscore"
    promotion_metric: Literal[PROMOTION_METRICS] = "roc_auc"  # brier, log_loss and ece are errors: lower wins
    promotion_margin: float = 0.0

    def scoring_experiment_name(self) -> str:
        """Return the experiment scoring runs are logged to (`scoring_experiment`, else "<experiment>-scoring")."""
        return self.scoring_experiment or f"{self.experiment}-scoring"


class DriftConfig(_Strict):
    """Population stability limits for batch scoring."""

    psi_warn: float = 0.1
    psi_fail: float = 0.25
    bins: int = Field(10, ge=2)


class ScoringConfig(_Strict):
    """Batch scoring options."""

    chunk_size: int = Field(1_000_000, ge=1)
    reasons_top_share: float = Field(0.10, ge=0, le=1)
    reasons_per_lead: int = Field(3, ge=1)
    # category values as reasons name them (c_level -> "C-level"); a value not listed reads with spaces for underscores
    # and a capital first letter ("paid_search" -> "Paid search")
    reason_labels: dict[str, str] = {}
    drift: DriftConfig = DriftConfig()
    history_days: int | None = Field(400, ge=1)  # keep the score history of this many days before the latest as_of; None: all
    trend_steady_points: float = Field(5.0, ge=0)  # a 0-100 score moving less than this since the previous run is "steady"


class MonitorConfig(_Strict):
    """When `leadscore monitor` alerts (exit code 4) on scores whose outcomes have arrived."""

    max_ece: float = Field(0.05, gt=0, le=1)  # realized calibration error beyond this is drift
    min_leads: int = Field(200, ge=1)  # a scoring date with fewer matured leads is not judged (too few to tell)
    confidence: float = Field(0.95, gt=0.5, lt=1)  # a threshold is over-generous when its conversion's upper bound misses the target


class SegmentConfig(_Strict):
    """One segment: the leads its filter takes, with its own model and optional points table, targets and grades.

    `where` is one condition or a list of conditions that must all hold (`pipeline.segment_filter`).
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=40)  # part of the registered model's name
    where: str | list[str]
    points_table: str | None = None  # default: the top-level points_table
    targets: TargetsConfig | None = None  # default: the top-level targets
    grades: GradeConfig | None = None  # default: the top-level grades

    @field_validator("where")
    @classmethod
    def _grammar(cls, value: str | list[str]) -> str | list[str]:
        from leadscore.pipeline.segment_filter import parse_where

        parse_where(value)  # a FilterError (a ValueError) names the condition and what is wrong with it
        return value

    @property
    def conditions(self):
        """Return the parsed conditions of `where`."""
        from leadscore.pipeline.segment_filter import parse_where

        return parse_where(self.where)


class SegmentComparisonConfig(_Strict):
    """When a segment's own model is said to pay: its AUC gain over the global model on the segment's test leads."""

    min_test_wins: int = Field(30, ge=1)  # fewer wins among the segment's test snapshots: too small to tell, the global model scores it
    bootstrap: int = Field(400, ge=50)  # paired resamples of the segment's test leads
    confidence: float = Field(0.95, gt=0.5, lt=1)  # the interval of the AUC difference
    seed: int = 0


FALLBACK_SEGMENT = "fallback"
"""The segment of leads no filter takes; the global model scores them."""


class FlatSplit(_Strict):
    """How a flat export is cut into train, calibration and test rows.

    `by`: `date` (the date column orders the rows), `order` (the file's row order, `order`
    ascending or descending, is time order), `random` (stratified by outcome: only when rows
    are exchangeable, e.g. no time order is known), `group` (random by `group_column`, so one
    account's rows never sit on both sides), `kfold` (k-fold cross-validation over `folds` folds
    drawn at random, stratified by outcome and by `group_column` when set: every row is tested
    once, for a small export whose one test slice would hold too few wins to judge on). Without
    `by`, a date column means `date`, else `order`.
    """

    by: Literal["date", "order", "random", "group", "kfold"] | None = None
    order: Literal["ascending", "descending"] = "ascending"  # descending: the newest row is first in the file
    group_column: str | None = None
    folds: int = Field(5, ge=3, le=20)  # k of `kfold`: one fold calibrates each model, so at least 3

    @model_validator(mode="after")
    def _group_needs_column(self) -> FlatSplit:
        if self.by == "group" and not self.group_column:
            raise ValueError("split.by 'group' needs split.group_column (e.g. the account id)")
        return self


class FlatCensoring(_Strict):
    """Which rows of a flat export are too young for their outcome to be known (`pipeline.flat_censoring`).

    The outcome is read as "won within `horizon_days` of the created date"; rows created less
    than that before the export's end (`export_end`, default: the latest created or won date)
    are left out of training and evaluation and counted.
    """

    horizon_days: int = Field(ge=1)
    created_column: str | None = None  # default: flat.date_column
    won_date_column: str | None = None  # a win after the horizon counts as a loss
    export_end: str | None = None  # YYYY-MM-DD: when the export was taken

    @field_validator("export_end")
    @classmethod
    def _a_date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"export_end {value!r} is not a date such as 2024-12-31") from None
        return value


class FlatJoin(_Strict):
    """A second file joined to a flat export on a key column, one row per key (`pipeline.flat_join`)."""

    path: str
    key: str  # the export's column
    other_key: str | None = None  # the joined file's column, if named otherwise
    columns: tuple[str, ...] = ()  # the columns to bring; default: every column but the key
    delimiter: str = ","
    missing: Literal["error", "blank"] = "error"  # a row whose key the file lacks: an error, or blank joined columns


DATE_PARTS = Literal["year", "quarter", "month", "day_of_month", "day_of_week", "hour", "age_days"]
"""What `flat.date_features` can derive from a date column (`pipeline.flat_dates`)."""


class FlatTableConfig(_Strict):
    """A flat lead export: one row per lead with an outcome column and no activity history."""

    path: str
    delimiter: str = ","
    id_column: str | None = None
    outcome_column: str
    positive_values: tuple[str, ...] = ("yes", "1", "true", "won")
    date_column: str | None = None  # orders the rows for the time split; without it, file order is time order
    periods: int = Field(20, ge=5)  # consecutive blocks of rows the split and the backtest cut the rows into
    split: FlatSplit = FlatSplit()
    explicit: tuple[str, ...] = ()  # who the lead is
    behaviour: tuple[str, ...] = ()  # pre-aggregated behaviour known before the outcome
    drop: tuple[str, ...] = ()  # columns never to use (e.g. known only after the outcome)
    na_values: tuple[str, ...] = ()  # cell values that mean blank (a form's "Select", "N/A"), besides empty cells
    numeric: tuple[str, ...] = ()  # feature columns to read as numbers (a value that is not one is an error)
    categorical: tuple[str, ...] = ()  # feature columns to read as categories even when they hold numbers (codes, ids)
    censoring: FlatCensoring | None = None  # leave out rows too young for their outcome to be known
    join: tuple[FlatJoin, ...] = ()  # second files joined on a key column (accounts, activity summaries)
    date_features: dict[str, tuple[DATE_PARTS, ...]] = {}  # date column -> parts derived as number features
    reference_date_column: str | None = None  # the row's own date, for age_days; default: date_column
    points_table: str | None = None
    model_name: str = "leadscore-flat"  # the registered model: apart from the CRM model, whose features differ

    @model_validator(mode="after")
    def _columns_listed_once(self) -> FlatTableConfig:
        problems = []
        for left, right in (("explicit", "behaviour"), ("explicit", "drop"), ("behaviour", "drop"), ("numeric", "categorical")):
            both = sorted(set(getattr(self, left)) & set(getattr(self, right)))
            if both:
                problems.append(f"{', '.join(both)} listed under both flat.{left} and flat.{right}; list each column once")
        features = set(self.explicit) | set(self.behaviour)
        typed = [c for c in (*self.numeric, *self.categorical) if c not in features]
        if typed:
            problems.append(f"flat.numeric / flat.categorical name {', '.join(typed)}, which are not listed under "
                            "flat.explicit or flat.behaviour")
        derived = {f"{c}_{p}" for c, parts in self.date_features.items() for p in parts}
        listed = sorted(derived & features)
        if listed:
            problems.append(f"{', '.join(listed)} derived by flat.date_features, which adds them as features: "
                            "do not list them under flat.explicit or flat.behaviour")
        if any("age_days" in parts for parts in self.date_features.values()) and not self.reference_column:
            problems.append("flat.date_features asks for age_days, which needs the row's own date: "
                            "set flat.reference_date_column or flat.date_column")
        if self.censoring is not None and not (self.censoring.created_column or self.date_column):
            problems.append("flat.censoring needs the row's created date: set flat.censoring.created_column or flat.date_column")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def reference_column(self) -> str | None:
        """Return the column holding each row's own date: `reference_date_column`, else `date_column`."""
        return self.reference_date_column or self.date_column


class Config(_Strict):
    """All of leadscore's settings."""

    workdir: str = "leadscore-work"
    engine: EngineSettings = EngineSettings()
    windows: WindowSettings = WindowSettings()
    features: FeatureOptions = FeatureOptions()
    population: PopulationSettings = PopulationSettings()
    split: SplitConfig = SplitConfig()
    model: ModelConfig = ModelConfig()
    backtest: BacktestConfig = BacktestConfig()
    targets: TargetsConfig = TargetsConfig()
    grades: GradeConfig = GradeConfig()
    tracking: TrackingConfig = TrackingConfig()
    scoring: ScoringConfig = ScoringConfig()
    lifecycle: LifecycleSettings = LifecycleSettings()
    label: LabelSettings = LabelSettings()
    monitor: MonitorConfig = MonitorConfig()
    points_table: str | None = None  # path; default: the packaged models/conf/points.yaml
    rules: FitSettings = FitSettings()  # how `rules fit` (and training, when asked) fits a points table
    flat: FlatTableConfig | None = None
    segments: list[SegmentConfig] = []  # a lead goes to the first segment whose filter it meets, else to the fallback (global) model
    segment_comparison: SegmentComparisonConfig = SegmentComparisonConfig()

    @field_validator("segments")
    @classmethod
    def _distinct_names(cls, value: list[SegmentConfig]) -> list[SegmentConfig]:
        names = [s.name for s in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"segment names must differ: {', '.join(repeated)} repeated")
        if FALLBACK_SEGMENT in names:
            raise ValueError(f"'{FALLBACK_SEGMENT}' names the leads in no segment; give the segment another name")
        return value

    @property
    def for_features(self) -> FeatureSettings:
        """Return the settings the features layer reads: the feature options, the windows and the population."""
        return FeatureSettings(features=self.features, windows=self.windows, population=self.population)

    @property
    def workdir_path(self) -> Path:
        """Return the working folder that holds every artefact."""
        return Path(self.workdir)

    def tracking_uri(self) -> str:
        """Return the MLflow tracking URI: environment, then config, then the local store."""
        if _USER_TRACKING_URI:
            return _USER_TRACKING_URI
        if self.tracking.uri:
            return self.tracking.uri
        from leadscore.pipeline.catalog import Catalog

        return Catalog.of(self).local_tracking_uri()


def _default_dict() -> dict[str, Any]:
    text = resources.files("leadscore.pipeline").joinpath("conf/default.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _DatesAsTextLoader(UniqueKeyLoader):
    """YAML without its timestamp type: `first_snapshot: 2025-01-01` stays the text the date
    validator reads, and `2025-13-01` becomes a named key error instead of a crash in the parser."""


_DatesAsTextLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_config(path: str | os.PathLike | None = None, **overrides: Any) -> Config:
    """Return the packaged defaults, overridden by the YAML file at `path` and by `overrides`.

    >>> load_config().windows.horizon_days
    90
    >>> load_config(workdir="/tmp/x").workdir
    '/tmp/x'
    """
    data = _default_dict()
    source = "the packaged conf/default.yaml"
    if path is not None:
        source = str(path)
        try:
            user = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_DatesAsTextLoader) or {}
        except FileNotFoundError:
            raise BadInputError(f"{path}: configuration file not found") from None
        except yaml.YAMLError as exc:
            raise BadInputError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(user, dict):
            raise BadInputError(f"{path}: the configuration must be a mapping of keys")
        data = _merge(data, user)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    data = _merge(data, overrides)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise BadInputError(_config_problems(exc, source, overrides)) from None


def _config_problems(exc: ValidationError, source: str, overrides: dict[str, Any]) -> str:
    """Name each bad key and where its value came from: the file, or an option given on the command line."""
    from_file, from_options = [], []
    for error in exc.errors():
        location = [str(p) for p in error["loc"]]
        problem = f"key '{'.'.join(location)}': {error['msg']}"
        (from_options if _holds(overrides, location) else from_file).append(problem)
    parts = [f"{source}: {'; '.join(from_file)}"] if from_file else []
    parts += [f"a command-line option (or keyword override): {'; '.join(from_options)}"] if from_options else []
    return " | ".join(parts)


def _holds(overrides: dict[str, Any], location: list[str]) -> bool:
    """Return whether `overrides` sets the key at `location` (or a section holding it)."""
    value: Any = overrides
    for key in location:
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
        if not isinstance(value, dict):
            return True
    return True


def feature_settings(config: Config) -> dict[str, Any]:
    """Return the settings that decide what every feature means, as a model bundle records them.

    Plug-ins are recorded by name, those found through entry points included, so scoring and
    evaluation rebuild exactly the trained features (`with_feature_settings`) whatever plug-in
    packages are installed since. See `FeatureSettings.recorded` for why settings are recorded.
    """
    return pin_plugins(config.for_features).recorded()


def with_feature_settings(config: Config, recorded: dict[str, Any] | None) -> tuple[Config, list[str]]:
    """Return `config` with a model's recorded feature settings, and the keys where `config` differed.

    A bundle from before settings were recorded (`recorded` None) keeps `config` as it is.
    """
    if not recorded:
        return config, []
    current = feature_settings(config)
    data = config.model_dump()
    for section, values in recorded.items():
        # each recorded key replaces the config's value whole: merged, a model's extra lead columns would gain the config's
        data[section] = {**data.get(section, {}), **values}
    try:
        trained = Config.model_validate(data)
    except ValidationError as exc:
        unknown = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        raise SchemaMismatchError(f"the model was trained with feature settings this leadscore cannot read ({unknown}); "
                                  "retrain it, or score with the leadscore version it was trained with") from None
    # compared as this leadscore reads both (a recorded list of extra columns is their categorical mapping); lead_columns
    # unset in the config means "those the CRM has", so the model's recorded ones are no change; the activity types
    # present are read from the data, never written in a config, so a config never differs in them
    changed = [f"{section}.{key}" for section, values in feature_settings(trained).items() for key, value in values.items()
               if current.get(section, {}).get(key) != value and key != "present_activity_types"
               and not ((section, key) == ("features", "lead_columns") and current["features"].get(key) is None)]
    return trained, changed


def with_settings(config: Config, settings: dict[str, Any]) -> Config:
    """Return `config` with the nested `settings` merged over it (e.g. a generated CRM's competitors)."""
    return Config.model_validate(_merge(config.model_dump(), settings))
