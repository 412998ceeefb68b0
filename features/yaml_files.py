"""Read YAML the way a config file should be read: a key given twice is an error, not a silent override.

PyYAML keeps the last of two equal keys, so a second `features:` section pasted lower in a
file silently drops the first. Every YAML file leadscore reads (configs, points tables,
vocabularies) goes through `UniqueKeyLoader`, which names the key and both lines.
"""

from __future__ import annotations

import yaml


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping holds the same key twice."""


class UniqueKeyLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a mapping with a repeated key.

    >>> yaml.load("a: 1\\nb: 2", Loader=UniqueKeyLoader)
    {'a': 1, 'b': 2}
    >>> try:
    ...     yaml.load("model:\\n  seed: 1\\nmodel:\\n  seed: 2", Loader=UniqueKeyLoader)
    ... except DuplicateKeyError as exc:
    ...     print(exc.problem)
    the key 'model' is given twice (line 1 and line 3): keep one
    """

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # an unhashable key: SafeLoader's own error says so
                break
            if first is not key_node:
                raise DuplicateKeyError(
                    "while constructing a mapping", node.start_mark,
                    f"the key {key!r} is given twice (line {first.start_mark.line + 1} and line "
                    f"{key_node.start_mark.line + 1}): keep one", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)
