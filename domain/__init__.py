"""Herald's pure domain model: aggregates, events and value objects. No I/O."""
