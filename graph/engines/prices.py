"""What a model's tokens cost: US dollars per million input and output tokens.

A small table of list prices for well-known models, and `SWARM_PRICES`, a JSON
object that adds models or overrides the table, e.g.
`SWARM_PRICES='{"llama3.1:8b": {"input": 0, "output": 0}}'`. A dated model name
(`gpt-4.1-2025-04-14`) or one with a router prefix (`openai/gpt-4.1`) takes the
price of the longest known name it starts with. Prices change: the table is a
convenience, `SWARM_PRICES` is the authority.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import NamedTuple

from graph.errors import SwarmError


class Price(NamedTuple):
    """US dollars per million tokens."""

    input: float
    output: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


KNOWN: Mapping[str, Price] = {
    # OpenAI list prices (standard tier)
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "o3": Price(2.00, 8.00),
    "o4-mini": Price(1.10, 4.40),
    # Moonshot Kimi K2 (cache-miss input)
    "kimi-k2": Price(0.60, 2.50),
}

ENV = "SWARM_PRICES"


def configured_prices(environ: Mapping[str, str] | None = None) -> dict[str, Price]:
    """The table with `SWARM_PRICES` laid over it; SwarmError when that is not valid."""
    env = os.environ if environ is None else environ
    prices = dict(KNOWN)
    raw = env.get(ENV, "").strip()
    if not raw:
        return prices
    try:
        given = json.loads(raw)
        if not isinstance(given, dict):
            raise ValueError("not a JSON object")
        for model, price in given.items():
            prices[str(model)] = Price(float(price["input"]), float(price["output"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise SwarmError(
            f"{ENV} is not valid ({exc}): give a JSON object like "
            '{"model-name": {"input": 0.4, "output": 1.6}} (US dollars per million tokens)'
        ) from exc
    return prices


def price_for(model: str, environ: Mapping[str, str] | None = None) -> Price | None:
    """The price of `model`, or None when neither the table nor `SWARM_PRICES` knows it."""
    prices = configured_prices(environ)
    for name in dict.fromkeys([model, model.rsplit("/", 1)[-1]]):
        if name in prices:
            return prices[name]
        starts = [known for known in prices if name.startswith(f"{known}-")]
        if starts:
            return prices[max(starts, key=len)]
    return None
