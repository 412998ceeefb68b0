"""Evaluate the points table and the model side by side on the same held-out leads."""

from leadscore.pipeline.evaluation.report import Evaluation, evaluate_scorers, write_report

__all__ = ["Evaluation", "evaluate_scorers", "write_report"]
