"""The rule baseline: a declarative points table and a scikit-learn scorer over it."""

from leadscore.models.rules.scorer import PointsScorer
from leadscore.models.rules.table import PointsTable, Rule, load_points_table

__all__ = ["PointsScorer", "PointsTable", "Rule", "load_points_table"]
