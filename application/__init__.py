"""Herald's use cases, on one eventsourcing Application, talking to the world through ports."""
