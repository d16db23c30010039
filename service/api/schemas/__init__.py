"""Pydantic request/response models of the HTTP API (``XUpdate`` in, ``XPublic`` out)."""
