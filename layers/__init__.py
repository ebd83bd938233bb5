"""Geodata: layer schemas, validation, readers and writers, the store, the sample district."""
