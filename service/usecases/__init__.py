"""Use cases of the service: what a route or a CLI command asks for, without HTTP."""
