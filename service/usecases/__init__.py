"""Use cases: what the service does, called by the HTTP routes and the CLI alike.

A use case takes the stores and the models and returns values; it never imports
``service.api`` (HTTP schemas, routes), so the CLI and the API make the same decisions.
"""
