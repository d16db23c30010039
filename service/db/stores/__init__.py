"""Stores: every query of the service's database, one module per kind of record.

A store takes a :class:`~sqlalchemy.orm.Session` (or an engine) and plain values or the
contracts of :mod:`service.db.stores.contracts`; it never imports ``service.api``.
"""
