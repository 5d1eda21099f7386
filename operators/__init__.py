"""Participants: organisations, members and roles, API keys, sites, grid areas, demand zones, webhooks."""
