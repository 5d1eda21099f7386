"""The exchange — the roof: the interval cycle, its tasks, replay, the dashboard, the demo and
the commands that run the whole market. It imports every app; no app imports it
(docs/architecture.md)."""
