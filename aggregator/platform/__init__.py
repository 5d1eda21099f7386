"""The platform: what every app may import — errors, the audit chain, the API base, the portal
shell, canonical JSON, public ids, the read-only admin. It imports no app (docs/architecture.md)."""
