"""Recording: the httpx transport that writes every exchange down, redacted before it is stored.

``recorder`` (RecordingTransport, Recorder) ← ``taps`` (bodies hashed and capped as they stream) and
``phases`` (timing of each hop); ``connections`` and ``pools`` (the pools under it: plain, verified and
CA-less https, with a deadline on every response head); ``redact`` (the allowlists and secret scrubbing).
"""
