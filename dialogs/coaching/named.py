"""`log coaching for liam`: the teacher a typed name means, when only one fits."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from storage.coaching.coachees import Coachee
from storage.schools import fold

# Words before the name that are not part of it: "log coaching for liam", "… with Liam".
_LEAD_WORDS = frozenset({"for", "with", "of", "to", "session", "a"})
# A name typed with a slip ("laim") still finds its teacher at this score (0–100).
_CLOSE = 85


@dataclass(frozen=True)
class Named:
    """The teacher meant (None if none, or more than one, fits) and a line saying so."""

    coachee: Coachee | None
    note: str | None


def named_coachee(coachees: list[Coachee], typed: str) -> Named:
    words = typed.split()
    while words and fold(words[0]) in _LEAD_WORDS:
        words.pop(0)
    shown = " ".join(words)
    query = fold(shown)
    if not query:
        return Named(None, None)

    def score(coachee: Coachee) -> float:
        name = fold(coachee.name)
        return max(fuzz.ratio(query, part) for part in (name, *name.split()))

    scored = sorted(((score(c), c) for c in coachees), key=lambda pair: -pair[0])
    fits = [c for s, c in scored if s >= _CLOSE and s >= scored[0][0] - 5]
    if len(fits) == 1:
        return Named(fits[0], None)
    if fits:
        return Named(None, f"More than one teacher is called “{shown}”: choose below.")
    return Named(None, f"I couldn't find a teacher called “{shown}” to choose: choose below.")
