"""regexplore: make the Docker Registry HTTP API v2 / OCI distribution protocol visible."""

__version__ = "0.1.0"
