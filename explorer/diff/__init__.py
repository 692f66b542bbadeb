"""``regexplore diff A B``: how two flows differ, aligned by meaning.

``align.py`` pairs the exchanges of two traces by what they are for and lists the
differences, each with a class that ``--ignore`` can drop; ``report.py`` writes
them as text, Markdown or HTML (two diagrams side by side). Exit codes as diff(1).
"""

from __future__ import annotations

from explorer.diff.align import CLASSES, Comparison, Difference, Totals, compare

__all__ = ["CLASSES", "Comparison", "Difference", "Totals", "compare"]
