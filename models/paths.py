"""Per-feature contributions of a LightGBM booster at the cost of a prediction: path attributions.

Each split on a lead's path through a tree moves the expected value from the node's to the
child's; that move is credited to the split's feature (Saabas's decomposition). A leaf's
credits are the same for every lead that lands in it, so they are computed once per leaf
from the dumped trees (`PathTable`), and a lead's contributions are the sum over trees of
its leaves' rows: one `pred_leaf` prediction and one sparse product. The contributions and
the bias add up to the booster's raw score exactly, as TreeSHAP's do; TreeSHAP shares out
interactions more fairly and costs about a hundred predictions (`bench_explain.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class PathTable:
    """Every leaf's credits per feature (one row per leaf of every tree) and where each tree's leaves start."""

    credits: sparse.csr_matrix  # (leaves of all trees, features)
    first_leaf: np.ndarray  # (trees,) row of each tree's leaf 0
    bias: float  # the raw score before any split: the sum of the trees' root values


def path_table(booster) -> PathTable:
    """Return the leaf credits of `booster` (a lightgbm.Booster), for the iterations it predicts with.

    A node's expected value is the training-count-weighted mean of its leaves' values, the
    expectation TreeSHAP measures from, so on trees of one split both give the same credits.
    """
    dump = booster.dump_model()
    n_features = len(dump["feature_names"])
    rows, cols, values, first_leaf = [], [], [], []
    bias, offset = 0.0, 0
    for tree in dump["tree_info"]:
        root = tree["tree_structure"]
        first_leaf.append(offset)
        expected = _expected_values(root)
        bias += expected[id(root)]
        stack = [(root, {})] if "left_child" in root else []  # a tree of one leaf moves every lead alike
        while stack:
            node, credit = stack.pop()
            for side in ("left_child", "right_child"):
                child = node[side]
                moved = dict(credit)
                feature = node["split_feature"]
                moved[feature] = moved.get(feature, 0.0) + expected[id(child)] - expected[id(node)]
                if "left_child" not in child:
                    rows += [offset + child["leaf_index"]] * len(moved)
                    cols += list(moved)
                    values += list(moved.values())
                else:
                    stack.append((child, moved))
        offset += tree["num_leaves"]
    credits = sparse.csr_matrix((values, (rows, cols)), shape=(offset, n_features))
    return PathTable(credits, np.asarray(first_leaf, dtype=np.int64), bias)


def _expected_values(root: dict) -> dict[int, float]:
    """Return each node's expected value (by `id`): a leaf's value, or its children's weighted by training counts."""
    out: dict[int, float] = {}
    order, stack = [], [root]
    while stack:
        node = stack.pop()
        order.append(node)
        if "left_child" in node:
            stack += [node["left_child"], node["right_child"]]
    for node in reversed(order):  # children before parents
        if "left_child" not in node:
            out[id(node)] = float(node["leaf_value"])
            continue
        left, right = node["left_child"], node["right_child"]
        n_left, n_right = _count(left), _count(right)
        total = n_left + n_right
        out[id(node)] = ((n_left * out[id(left)] + n_right * out[id(right)]) / total if total
                         else (out[id(left)] + out[id(right)]) / 2)
    return out


def _count(node: dict) -> float:
    return float(node.get("leaf_count", node.get("internal_count", 0)))


def path_contributions(table: PathTable, leaves: np.ndarray) -> np.ndarray:
    """Return (leads, features) contributions from `leaves`, the (leads, trees) leaf indices of `pred_leaf`."""
    leaves = np.asarray(leaves, dtype=np.int64)
    n, trees = leaves.shape
    landed = sparse.csr_matrix((np.ones(n * trees), (leaves + table.first_leaf[:trees]).ravel(), np.arange(0, n * trees + 1, trees)),
                               shape=(n, table.credits.shape[0]))
    return (landed @ table.credits).toarray()
