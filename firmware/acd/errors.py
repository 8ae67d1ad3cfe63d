"""Errors of the ACD. Commands that make no sense raise; races with the switch do not."""

from __future__ import annotations


class AcdError(Exception):
    """A command the engine refuses (unknown call, agent or queue; duplicate call id)."""


class ConfigError(AcdError):
    """The configuration is inconsistent; the message names the queue/agent and field."""


class TransitionError(AcdError):
    """An agent state change that is impossible from the agent's current state."""
