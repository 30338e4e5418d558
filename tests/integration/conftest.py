"""Fixtures of the integration tests."""

from tests.integration.pipeline import pipeline

__all__ = ["pipeline"]
