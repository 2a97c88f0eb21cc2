"""Reasons as codes with parameters: what the rules say, before it is put into anyone's words.

A rule never returns a sentence: it returns `Reason("kpi.target_missed", kpi=…, latest=…)`, and
the words are chosen when a person reads it, in their language (governance/reasons.py). A reason
is plain data, so it is stored as it is (ledger payloads, value reviews) and read back with
`Reason.from_json`.

Parameters are text (names, numbers already written the way the rules write them), a `Term` (a
word of the vocabulary: a risk tier, a function, a field of the business case), another
`Reason`, or a `Listing` of those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

Param = Union[str, int, "Term", "Money", "Reason", "Listing"]


@dataclass(frozen=True)
class Term:
    """One word of the vocabulary, e.g. Term("risk_tier", "high"): translated, never free text."""

    kind: str
    value: str


@dataclass(frozen=True)
class Money:
    """An amount of money, in its exact digits: written with the currency and the reader's locale."""

    amount: str


@dataclass(frozen=True)
class Listing:
    """Several parameters shown as one, joined as the reader's language joins a list."""

    items: tuple[Param, ...]
    joined_by: str = "semicolon"  # "semicolon" between clauses, "comma" between words, "sentences"


@dataclass(frozen=True)
class Reason:
    code: str
    params: tuple[tuple[str, Param], ...] = ()

    @classmethod
    def of(cls, code: str, **params: Param) -> Reason:
        return cls(code, tuple(sorted(params.items())))

    @property
    def arguments(self) -> dict[str, Param]:
        return dict(self.params)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "params": {name: _param_json(value) for name, value in self.params}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reason:
        return cls.of(
            data["code"], **{name: _param_from_json(value) for name, value in data["params"].items()}
        )


def _param_json(value: Param) -> Any:
    if isinstance(value, Reason):
        return value.as_json()
    if isinstance(value, Term):
        return {"term": value.kind, "value": value.value}
    if isinstance(value, Listing):
        return {"items": [_param_json(item) for item in value.items], "joined_by": value.joined_by}
    if isinstance(value, Money):
        return {"money": value.amount}
    return value


def _param_from_json(value: Any) -> Param:
    if isinstance(value, dict):
        if "code" in value:
            return Reason.from_json(value)
        if "term" in value:
            return Term(value["term"], value["value"])
        if "money" in value:
            return Money(value["money"])
        return Listing(tuple(_param_from_json(item) for item in value["items"]), value["joined_by"])
    return value
