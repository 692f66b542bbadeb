"""Pure protocol knowledge: the registry API's grammars, tables and rules.

Rule 1: pure and stdlib only: no httpx, no files, no clock, no network. Values in, values
out, so each protocol decision can be unit-tested from a string. Of ours, only the error tree
(``explorer.errors``) and the value types' decorator (``explorer.records.record``).

Rule 2: each module cites where its rules come from (OCI distribution-spec
ids such as end-3 / code-7, RFC sections, distribution/reference), and
``../shared/reference/protocol.md`` gathers those facts in one place.

Modules: ``reference`` (image references), ``digest`` (digests, hashing),
``mediatypes`` (media types, Accept, platforms), ``challenge``
(WWW-Authenticate, scopes, token requests), ``endpoints`` (the endpoint table
and ``classify``), ``errorcodes`` (error codes and error bodies), ``headers``
(Link, Range, Content-Range, Retry-After, Location), ``quoting`` (how the
messages above quote untrusted text), ``urls`` (a URL's parts, parsed once per URL).
"""
