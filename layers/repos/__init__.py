"""Repositories: the SQL for one kind of record each, as plain functions of a connection."""
