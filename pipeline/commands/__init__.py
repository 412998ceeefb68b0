"""The CLI's subcommands, one module per stage; `COMMANDS` is the order --help lists them in."""

from __future__ import annotations

from collections.abc import Callable

COMMANDS: list[tuple[str, Callable]] = []

from leadscore.pipeline.commands.generate import generate_command  # noqa: E402

COMMANDS.append(("generate", generate_command))

from leadscore.pipeline.commands.rules import rules_command  # noqa: E402

COMMANDS.append(("rules", rules_command))

from leadscore.pipeline.commands.train import promote_command, train_command  # noqa: E402

COMMANDS.append(("train", train_command))
COMMANDS.append(("promote", promote_command))

from leadscore.pipeline.commands.score import score_command  # noqa: E402

COMMANDS.append(("score", score_command))

from leadscore.pipeline.commands.evaluate import evaluate_command  # noqa: E402

COMMANDS.append(("evaluate", evaluate_command))

from leadscore.pipeline.commands.demo import demo_command  # noqa: E402

COMMANDS.insert(0, ("demo", demo_command))

from leadscore.pipeline.commands.features import features_command  # noqa: E402
from leadscore.pipeline.commands.validate import validate_command  # noqa: E402

COMMANDS.insert(2, ("validate", validate_command))
COMMANDS.insert(3, ("features", features_command))

from leadscore.pipeline.commands.flat import flat_command  # noqa: E402

COMMANDS.append(("flat", flat_command))

from leadscore.pipeline.commands.import_export import import_command  # noqa: E402

COMMANDS.insert(2, ("import", import_command))

from leadscore.pipeline.commands.monitor import monitor_command  # noqa: E402

COMMANDS.insert(next(i for i, (name, _) in enumerate(COMMANDS) if name == "score") + 1, ("monitor", monitor_command))
