"""Model classes by name, so a checkpoint's JSON can rebuild its network without pickle."""
from __future__ import annotations

MODELS: dict[str, type] = {}


def register(cls):
    MODELS[cls.__name__] = cls
    return cls


def build(name: str, config: dict):
    if name not in MODELS:
        raise ValueError(f"unknown model class {name!r}; known: {sorted(MODELS)}")
    return MODELS[name](**config)
