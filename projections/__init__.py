"""Read models: their schema, the code that applies events to them, and the queries on them."""
