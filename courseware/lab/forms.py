"""The lab's control panel, described from producer_core's own config metadata.

Nothing about Kafka settings is repeated here: names, defaults, rules, one-line docs and
groups come from ``producer_core.config.CONFIG_KEYS``; validation is
``producer_core.config.parse_value`` (one field, inline) and ``ProducerConfig.from_dict``
(the whole config, when the lab applies it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from producer_core.config import (
    CONFIG_KEYS,
    ConfigKey,
    format_value,
    parse_value,
    unknown_key_warning,
)
from producer_core.errors import ConfigError

# Groups shown in the lab, in this order; the rest (serializers, sockets…) change nothing
# a learner can see in a simulation without sockets.
LAB_GROUPS = ("batching", "memory", "delivery", "compression", "partitioning", "metadata")
GROUP_TITLES = {
    "batching": "Batching", "memory": "Memory", "delivery": "Delivery & retries",
    "compression": "Compression", "partitioning": "Partitioning", "metadata": "Metadata",
}
_HIDDEN_TYPES = ("class", "serializer", "list")


@dataclass(frozen=True)
class ControlField:
    """One setting in the control panel."""

    key: ConfigKey
    widget: str  # number | select | bool | text

    @property
    def name(self) -> str:
        return self.key.name

    @property
    def default_text(self) -> str:
        return format_value(self.key.name, self.key.default)

    @property
    def choices(self) -> tuple[str, ...]:
        if self.key.type == "acks":
            return ("all", "1", "0")
        return self.key.choices or ()

    @property
    def dom_id(self) -> str:
        return "cfg-" + self.key.name.replace(".", "-")


def _widget(key: ConfigKey) -> str:
    if key.type == "bool":
        return "bool"
    if key.choices or key.type == "acks":
        return "select"
    if key.type in ("int", "long"):
        return "number"
    return "text"


def control_groups() -> list[tuple[str, str, list[ControlField]]]:
    """(group id, title, fields) for every simulated setting a learner can change."""
    groups = []
    for group in LAB_GROUPS:
        fields = [ControlField(key, _widget(key)) for key in CONFIG_KEYS.values()
                  if key.group == group and key.simulated and key.type not in _HIDDEN_TYPES]
        if fields:
            groups.append((group, GROUP_TITLES.get(group, group.title()), fields))
    return groups


def validate_field(name: str, value: Any) -> tuple[str | None, str | None]:
    """(error, normalised value) for one setting on its own, for inline validation."""
    if name not in CONFIG_KEYS:
        # Kafka accepts a key it does not know (and ignores it): a warning, not an error.
        return unknown_key_warning(name[:80]), None
    try:
        parsed = parse_value(name, value)
    except ConfigError as exc:
        return str(exc), None
    return None, format_value(name, parsed)
