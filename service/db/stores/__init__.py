"""Queries of the service, one module per concern."""
