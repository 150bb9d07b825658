"""The workshop console: a web view of the running sandbox (map, exchange log, scenarios, people)."""
