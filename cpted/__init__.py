"""cpted-mapper: map problem spots together and judge places by CPTED."""

__version__ = "0.1.0"
