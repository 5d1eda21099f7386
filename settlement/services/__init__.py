"""Writes of the settlement app: meter readings and interval settlement."""
