"""What a typed message asks for: forgiving case, extra words, mentions and typos.

The registry holds the commands; this module scores a message against their
phrases. It reads a bounded start of the message, so hostile text costs no more
than a short one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

if TYPE_CHECKING:
    from dialogs.registry import Command

# A command phrase must score this well (0–100) against the words typed.
MATCH_THRESHOLD = 84
# Two commands whose scores are this close are too close to choose between.
AMBIGUITY_MARGIN = 4
# Below the threshold, "did you mean …?" is offered only when the guess is confident:
# at least this good, and this far ahead of the next command's score. A weaker guess
# ("the weather is lovely today" is 60 from "my actions") gets the home card instead.
SUGGEST_THRESHOLD = 72
SUGGEST_MARGIN = 10

# A message's text has no length limit, so the matcher reads only its start: a
# command and its arguments fit well inside, and hostile text costs no more than this.
MATCHED_CHARACTERS = 400
# Phrases are tried against every run of words, so the words read are bounded too.
MATCHED_WORDS = 48

# Linear on any text: each attempt, starting at a "<", scans only up to the next "<"
# (a lazy ".*?" up to "</at>", or "[^>]+" up to ">", rescans the rest of the text
# from every "<" and is quadratic on a run of "<at>").
_MENTION = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
_NON_WORD = re.compile(r"[^\w\s'-]+")


@dataclass(frozen=True)
class Matched:
    command: Command
    args: str


@dataclass(frozen=True)
class Ambiguous:
    commands: tuple[Command, ...]


@dataclass(frozen=True)
class NotUnderstood:
    suggestion: Command | None


Match = Matched | Ambiguous | NotUnderstood


def normalise(text: str) -> str:
    """Lower-case words only: mentions, markup and punctuation removed."""
    text = _MENTION.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _NON_WORD.sub(" ", text.casefold())
    return " ".join(text.split())


def matched_words(text: str) -> list[str]:
    """The words the matcher reads of a message: from its first characters only."""
    return normalise(text[:MATCHED_CHARACTERS]).split()[:MATCHED_WORDS]


def best_match(commands: Iterable[Command], text: str) -> Match:
    """What a typed message asks for among `commands`."""
    words = matched_words(text)
    if not words:
        return NotUnderstood(None)
    scored: list[tuple[float, int, int, Command, str]] = []
    for command in commands:
        best: tuple[float, int, int, str] | None = None
        for phrase in command.phrases:
            score, args = _score_phrase(phrase.split(), words)
            candidate = (score, len(phrase.split()), len(phrase), args)
            if best is None or candidate[:3] > best[:3]:
                best = candidate
        if best is not None:
            scored.append((best[0], best[1], best[2], command, best[3]))
    if not scored:
        return NotUnderstood(None)
    # Equal scores: the longer phrase is the more specific ("coaching coverage"
    # over "coaching").
    scored.sort(key=lambda item: item[:3], reverse=True)
    top_score, top_words, _, top_command, top_args = scored[0]
    if top_score < MATCH_THRESHOLD:
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        confident = top_score >= SUGGEST_THRESHOLD and top_score - runner_up >= SUGGEST_MARGIN
        return NotUnderstood(top_command if confident else None)
    rivals = [
        command
        for score, phrase_words, _, command, _ in scored[1:]
        if score >= MATCH_THRESHOLD
        and top_score - score < AMBIGUITY_MARGIN
        and phrase_words >= top_words
    ]
    if rivals:
        return Ambiguous((top_command, *rivals))
    return Matched(top_command, top_args)


def _score_phrase(phrase: list[str], words: list[str]) -> tuple[float, str]:
    """Best score of `phrase` against any run of words, and the words after that run.

    A phrase at the start of the message scores a little higher than the same
    phrase later on, so "category oakfield" beats a stray "category" inside
    another command's arguments.
    """
    width = len(phrase)
    target = " ".join(phrase)
    best_score, best_args = 0.0, ""
    for start in range(0, max(1, len(words) - width + 1)):
        window = " ".join(words[start : start + width])
        score = fuzz.ratio(target, window)
        # Ratio is harsh on short words ("hlep" scores 75), so a typo or two,
        # by edit distance with transpositions, counts as a match too.
        distance = OSA.distance(target, window)
        if distance <= _typos_allowed(target):
            score = max(score, 95.0 - 3 * distance)
        if start > 0:
            score -= 2
        if score > best_score:
            best_score, best_args = score, " ".join(words[start + width :])
    return best_score, best_args


def _typos_allowed(phrase: str) -> int:
    if len(phrase) <= 3:
        return 0
    if len(phrase) <= 8:
        return 1
    return 2 if len(phrase) <= 16 else 3
