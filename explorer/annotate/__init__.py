"""What each exchange of a trace means: endpoint, participant, short labels and why it happened.

Rule 1: pure: no files, no clock, no network, no httpx. Values in
(a :class:`~explorer.trace.Trace`), values out (an :class:`AnnotatedTrace`).

Rule 2: nothing here is stored in a trace. Meaning is derived at render time,
so a better classifier improves old recordings.

Rule 3: every label and note is ONE printable line (newlines and control
characters become spaces); renderers only escape for their own syntax.

Roles (DESIGN.md): ``Registry`` is the host of ``/v2/...`` requests (a second
one, as in a ``copy``, is ``Registry 2``); ``Auth`` receives token requests (to
a Bearer ``realm`` seen in a challenge, or a non-/v2 URL carrying
``service=``/``scope=``), even when the realm is on the registry's own host;
``Storage`` is where a registry redirect (3xx ``Location``) pointed; any other
host is ``Other``. Lanes are ordered Client, Registry…, Auth…, Storage…, Other….

Labels and teaching lines are data tables keyed by endpoint id or by a
*situation* string (``"blob exists"``, ``"mount refused"``, …):
:data:`REQUEST_LABELS`, :data:`RESPONSE_LABELS` and :data:`WHY`.

Modules: ``model.py`` (the values produced), ``roles.py`` (lanes), ``texts.py``
(words, units and the teaching tables), ``exchanges.py`` (one exchange's
meaning); this file joins them into :func:`annotate`.
"""

from __future__ import annotations

from explorer import collector
from explorer.annotate.exchanges import Annotator
from explorer.annotate.intents import step_labels
from explorer.annotate.model import CLIENT, AnnotatedExchange, AnnotatedTrace, ErrorInfo, Participant, Summary
from explorer.annotate.texts import (
    REQUEST_LABELS,
    RESPONSE_LABELS,
    WHY,
    StepCounter,
    one_line,
)
from explorer.trace import Trace
from explorer.units import human_duration, human_size

__all__ = [
    "REQUEST_LABELS",
    "RESPONSE_LABELS",
    "AnnotatedExchange",
    "AnnotatedTrace",
    "ErrorInfo",
    "Participant",
    "StepCounter",
    "Summary",
    "WHY",
    "annotate",
    "human_duration",
    "human_size",
    "one_line",
    "step_labels",
]


def annotate(trace: Trace) -> AnnotatedTrace:
    """Derive the meaning of every exchange of ``trace`` and a summary of the whole."""
    with collector.paused():  # many small objects an exchange, none in a cycle: see explorer.collector
        return _annotated(trace)


def _annotated(trace: Trace) -> AnnotatedTrace:
    annotator = Annotator(trace)
    ids = [ex.id for ex in trace.exchanges]
    unique = len(set(ids)) == len(ids) and all(i > 0 for i in ids)  # else (a hand-edited file) by position
    exchanges = tuple(annotator.one(i, ex.id if unique else i + 1, ex) for i, ex in enumerate(trace.exchanges))
    participants = (CLIENT, *annotator.roles.lanes.values())
    operation = trace.operation
    title = " ".join(x for x in (operation, trace.target) if x) or " ".join(trace.command) or "regexplore trace"
    summary = Summary(
        title=one_line(title, 120), operation=operation, target=trace.target,
        exchanges=len(exchanges), failed=sum(a.failed for a in exchanges),
        bytes_down=sum(a.bytes_down for a in exchanges), bytes_up=sum(a.bytes_up for a in exchanges),
        wall_ms=trace.wall_ms(), participants=participants,
        outcome=trace.outcome.status, outcome_message=trace.outcome.message,
    )
    return AnnotatedTrace(trace=trace, participants=participants, exchanges=exchanges, summary=summary)
