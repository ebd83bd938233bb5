"""Repositories: the SQL of each domain concept, as plain functions of a connection."""
