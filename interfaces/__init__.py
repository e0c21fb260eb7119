"""Adapters: HTTP API, CLI, database bootstrap, and the composition root that wires them."""
