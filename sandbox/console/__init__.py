"""The workshop console: the running sandbox as web pages (map, log, scenarios, people)."""
