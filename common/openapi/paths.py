"""Routes in OpenAPI's terms: a Flask rule's path as a document writes it."""
from __future__ import annotations

import re

SKIPPED_METHODS = {"HEAD", "OPTIONS"}  # Flask answers them on every route by itself
RULE_ARGUMENT = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def openapi_path(rule: str) -> str:
    """A Flask rule's path as OpenAPI writes it."""
    return RULE_ARGUMENT.sub(lambda match: "{" + _camel(match.group(1)) + "}", rule)


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)
