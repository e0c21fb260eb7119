"""Herald's processes started as a user starts them (`herald serve`, `herald …` commands),
and waited on until they answer: shared by the end-to-end tests and the benches."""
