"""Name every artefact path of the working folder, so no stage builds one inline.

Kedro-style: a stage asks the catalog where its dataset lives (a new bundle's folder, the
scores for an as_of, the report folder of a run) and the layout of the working folder is
read in one place. The catalog only names paths; `pipeline.io` writes the files.

>>> from pathlib import Path
>>> catalog = Catalog(Path("work"))
>>> catalog.scores_file(pd.Timestamp("2026-07-01", tz="UTC")).as_posix()
'work/scores/scores_2026-07-01.parquet'
>>> catalog.report_dir("evaluate-leadscore-v3").as_posix()
'work/reports/evaluate-leadscore-v3'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Catalog:
    """Locate the datasets of one working folder (`root`)."""

    root: Path

    @classmethod
    def of(cls, config) -> Catalog:
        """Return the catalog of `config.workdir`."""
        return cls(Path(config.workdir))

    @property
    def model_store(self) -> Path:
        """Return the folder of locally saved bundles, one of the two places a model is trusted from."""
        return self.root / "models"

    def new_bundle_dir(self, now: pd.Timestamp | None = None) -> Path:
        """Return the folder for a bundle trained at `now` (UTC, microseconds, so runs never collide)."""
        now = pd.Timestamp.now(tz="UTC") if now is None else now
        return self.model_store / now.strftime("%Y%m%dT%H%M%S%f")

    @staticmethod
    def test_slice(bundle_dir: Path) -> Path:
        """Return the file in a bundle holding its test slice's features and labels (promotion re-scores champions on it)."""
        return Path(bundle_dir) / "test_slice.parquet"

    def report_dir(self, name: str) -> Path:
        """Return the folder of the report called `name` (a bundle's name, `flat`, `evaluate-...`)."""
        return self.root / "reports" / name.replace(":", "-")

    def scores_file(self, as_of: pd.Timestamp) -> Path:
        """Return the default scores file of a run as of `as_of`."""
        return self.root / "scores" / f"scores_{as_of.date()}.parquet"

    @property
    def score_history(self) -> Path:
        """Return the folder of the score history: one Parquet file per model version in a folder per as_of."""
        return self.root / "history" / "scores"

    def history_file(self, as_of: pd.Timestamp, model_name: str, model_version: str) -> Path:
        """Return the history file of one scoring run (as_of, model version): a rerun replaces it, so it never repeats a lead.

        >>> Catalog(Path("work")).history_file(pd.Timestamp("2026-07-01"), "leadscore", "3").as_posix()
        'work/history/scores/as_of=2026-07-01/leadscore-v3.parquet'
        """
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{model_name}-v{model_version}")
        return self.score_history / f"as_of={as_of.date()}" / f"{name}.parquet"

    def monitor_dir(self, name: str) -> Path:
        """Return the folder of a monitor report (`monitor-<latest as_of>`)."""
        return self.root / "reports" / name

    @property
    def spark_scores_dir(self) -> Path:
        """Return the default folder Spark writes its as_of-partitioned scores to."""
        return self.root / "scores" / "spark"

    @property
    def registry_cache(self) -> Path:
        """Return the folder registered bundles are downloaded into (versions are immutable, so kept)."""
        return self.root / "cache" / "registry"

    @property
    def validated(self) -> Path:
        """The record of the activity parts runs have validated, with their typed copies (`features.validated_parts`)."""
        return self.root / "validated"

    @property
    def tmp(self) -> Path:
        """Return the folder DuckDB spills large joins to."""
        return self.root / "tmp"

    @property
    def mlflow_db(self) -> Path:
        """Return the local MLflow tracking and registry database."""
        return self.root / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        """Return the folder of the local MLflow store's run artifacts."""
        return self.root / "mlartifacts"

    @property
    def demo_data(self) -> Path:
        """Return the folder the demo writes its generated CRM to."""
        return self.root / "data"

    def local_tracking_uri(self) -> str:
        """Return the URI of the local MLflow store (used when neither environment nor config names one).

        The path is percent-quoted: in a URL, `?` starts a query and `#` a fragment, so a working
        folder named `a?b` would otherwise put the store at `a` (SQLAlchemy unquotes the path).

        Only the characters a URL gives a meaning to are quoted; the rest of the path stays as it is.

        >>> Catalog(Path("/w/a?b #c'ü")).local_tracking_uri()
        "sqlite:////w/a%3Fb %23c'ü/mlflow.db"
        """
        return "sqlite:///" + quote_url_path(str(self.mlflow_db.resolve()))


def quote_url_path(path: str) -> str:
    """Percent-quote the characters that end a URL's path (`?`, `#`) and the escape character itself.

    >>> quote_url_path("/w/50%?#")
    '/w/50%25%3F%23'
    """
    return path.replace("%", "%25").replace("?", "%3F").replace("#", "%23")


def engine_settings(config):
    """Return `config.engine` with DuckDB spilling to the catalog's tmp folder unless one is configured,
    and the record of validated activity parts in the catalog's `validated/` folder unless one is configured."""
    engine = config.engine
    if engine.temp_directory is None:
        engine = engine.model_copy(update={"temp_directory": str(Catalog.of(config).tmp)})
    if engine.validated_store is None:
        engine = engine.model_copy(update={"validated_store": str(Catalog.of(config).validated)})
    return engine
