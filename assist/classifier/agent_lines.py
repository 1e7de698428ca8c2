"""Checking what an agent says: the forbidden-phrase rules, and the learned line model beside them.

The rules find what trainers listed; the line model, trained from the rules' examples, the
pack's labelled agent lines and the agent turns of its sample calls, finds the same thing
said in other words ("后台抽风了", "找我们科技部的老李"). It is tuned for precision — a false
alarm mid-call costs more than a miss: it adds a warning for a rule the rules did not find on
that line only at a high score, and withdraws a rule's warning only when it firmly reads the
line as allowed and knows the words (a note quoting the customer). A rule that needs a media
call (policy answers to the media) is warned by the model only on a media call.
"""

from __future__ import annotations

from collections.abc import Sequence

from assist.classifier.forbidden_check import DEFAULT_LANG, ForbiddenChecker
from assist.classifier.learned import TextModel
from assist.classifier.model import ForbiddenHit
from assist.classifier.model_config import LineModelSettings
from assist.classifier.normalize import normalize

OK_LABEL = "ok"
"""The line model's label for an allowed line."""


class LineChecker:
    """Finds forbidden phrases in one agent line with the rules and, when the pack has one, the line model."""

    __slots__ = ("model", "rules", "settings")

    def __init__(
        self, rules: ForbiddenChecker, model: TextModel | None = None, settings: LineModelSettings | None = None
    ) -> None:
        self.rules = rules
        self.settings = settings or LineModelSettings()
        self.model = model if self.settings.enabled else None

    def with_internal_numbers(self, numbers: Sequence[str]) -> LineChecker:
        """The same checker forbidding exactly these internal numbers (the contact directory's)."""
        return LineChecker(self.rules.with_internal_numbers(numbers), self.model, self.settings)

    @property
    def internal_numbers(self) -> tuple[str, ...]:
        return self.rules.internal_numbers

    def rule_ids(self) -> list[str]:
        return self.rules.rule_ids()

    def phrases(self, category: str, lang: str = DEFAULT_LANG) -> list[dict[str, object]]:
        return self.rules.phrases(category, lang)

    def check(self, text: str, *, media: bool = False, lang: str = DEFAULT_LANG) -> list[ForbiddenHit]:
        """Every forbidden phrase in `text`: the rules' hits, then the model's for rules not yet hit."""
        hits = self.rules.check(text, media=media, lang=lang)
        if self.model is None or not text.strip():
            return hits
        feats = self.model.encode(text)
        scores = self.model.scores((feats,))
        hits = [h for h in hits if not self._withdrawn(h, scores)]
        found = {h.rule for h in hits}
        for rule in self.model.labels:
            if rule == OK_LABEL or rule in found or scores[rule] < self.settings.for_rule(rule):
                continue
            if self.rules.is_media_only(rule) and not media:
                continue
            span = self._span(text, feats, rule)
            hits.append(ForbiddenHit(rule, text[span[0] : span[1]], span, self.rules.alternative(rule, lang), "model"))
        return hits

    def _withdrawn(self, hit: ForbiddenHit, scores: dict[str, float]) -> bool:
        """A phrase rule's hit the model firmly reads as allowed, about words it learned: a note quoting the
        customer, a refusal to a journalist. A phrase a trainer just added is new to the model, so it stands."""
        assert self.model is not None
        return (
            scores.get(hit.rule, 0.0) <= -self.settings.veto
            and scores.get(OK_LABEL, 0.0) >= 0
            and self.model.knows(hit.phrase)
        )

    def _span(self, text: str, feats: tuple[int, ...], rule: str) -> tuple[int, int]:
        """From the first to the last of the words that weighed most, when they are close; else the first."""
        assert self.model is not None
        n = normalize(text)
        spans: list[tuple[int, int]] = []
        for word in self.model.strongest((feats,), rule):
            at = n.text.find(word)
            if at >= 0:
                spans.append(n.span(at, at + len(word)))
        if not spans:
            return (0, len(text))
        spans.sort()
        first = spans[0]
        close = [s for s in spans if s[0] - first[1] <= 12]
        return (first[0], max(s[1] for s in close))
