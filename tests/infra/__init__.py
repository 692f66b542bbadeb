"""Test infrastructure: real registries, token server, static CDN, external tools."""
