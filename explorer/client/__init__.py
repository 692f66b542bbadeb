"""The registry client: how requests reach a registry and what comes back.

``registry`` (RegistryClient, one method per endpoint) ← ``sending`` (retries, typed errors) ←
``auth`` (the challenge/token dance as an httpx.Auth) ← ``credentials`` (flags, Docker config,
helpers); ``schemes`` (https first on loopback), ``bounded`` (caps and deadlines);
``session`` (a traced operation: recorder + clients + the trace always written).
"""
