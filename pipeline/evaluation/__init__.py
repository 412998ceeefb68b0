"""Evaluate the points table and the model side by side on the same held-out leads."""

from pipeline.evaluation.report import Evaluation, evaluate_scorers, write_report

__all__ = ["Evaluation", "evaluate_scorers", "write_report"]
