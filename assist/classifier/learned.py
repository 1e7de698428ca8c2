"""The learned text model: features of a text, and scoring with exported linear weights.

Trained offline by `assist.classifier.training` (scikit-learn) and exported here as a
plain weight matrix, so scoring in the live loop is a few dictionary lookups and one
numpy gather: no scikit-learn objects, no vectoriser, nothing that can change between
library versions. Features are per segment (a transcript line, a note), so a live call
caches each segment's feature ids and only its newest line costs anything.

Features: character unigrams and bigrams of the normalised text (traditional folded to
simplified, case and width folded, punctuation dropped). A call is the union of its segments'
features, weighted by idf and L2-normalised: the same binary TF-IDF that training fits.
Sound features (the syllables of neighbouring characters) were tried: cross-validation over
the blind sets showed no gain, and they doubled the time per line; the rules match by sound.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import ahocorasick
import msgspec
import numpy as np
import numpy.typing as npt

from assist.classifier.normalize import normalize_text

FORMAT = 2
"""Bumped whenever `text_features` changes: an artifact of another format is not used."""

SEPARATOR = "\n"
"""Joins a call's segments for training; never inside a feature."""

FeatureIds = tuple[int, ...]
_second = itemgetter(1)
Floats = npt.NDArray[np.float32]


def text_features(text: str) -> list[str]:
    """The features of one segment of text (duplicates removed, order of first occurrence)."""
    n = normalize_text(text)
    feats: dict[str, None] = dict.fromkeys(n)
    feats.update(dict.fromkeys(map(str.__add__, n[:-1], n[1:])))
    return list(feats)


def call_features(texts: Iterable[str]) -> list[str]:
    """The union of features of a call's segments (what training sees for one call)."""
    out: dict[str, None] = {}
    for t in texts:
        for f in text_features(t):
            out[f] = None
    return list(out)


class _Artifact(msgspec.Struct, frozen=True):
    format: int
    labels: list[str]
    features: list[str]
    weights: bytes
    bias: list[float]
    idf2: bytes
    meta: dict[str, Any]


@dataclass(frozen=True, eq=False)
class TextModel:
    """One-vs-rest linear scores per label over binary TF-IDF features.

    `weights[i, j]` is the weight of feature i for label j with its idf folded in, so a
    call's score for label j is sum(weights[ids, j]) / sqrt(sum(idf2[ids])) + bias[j].
    """

    labels: tuple[str, ...]
    index: Mapping[str, int]
    features: tuple[str, ...]
    weights: Floats
    bias: Floats
    idf2: Floats
    meta: Mapping[str, Any]
    _grams: Any = field(init=False, repr=False, compare=False)
    """Aho-Corasick automaton over every feature (character and pair) -> its id, built once."""

    def __post_init__(self) -> None:
        grams = ahocorasick.Automaton()
        for f, i in self.index.items():
            grams.add_word(f, i)
        if self.index:
            grams.make_automaton()
        object.__setattr__(self, "_grams", grams)

    def encode(self, text: str) -> FeatureIds:
        """The known feature ids of one segment (cache this per segment)."""
        return self.encode_normalized(normalize_text(text))

    def encode_normalized(self, n: str) -> FeatureIds:
        """`encode` for text already normalised: the same features as `text_features`, found in one
        C pass of an automaton that holds them all (this runs on every line of every live call)."""
        if not n or not self.index:
            return ()
        return tuple(set(map(_second, self._grams.iter(n))))

    def scores(self, segments: Iterable[FeatureIds]) -> dict[str, float]:
        """label -> decision score for a call made of these encoded segments (0 is the boundary)."""
        ids: set[int] = set().union(*segments)  # one C call; the same set, filled in the same order
        if not ids:
            return {lb: float(b) for lb, b in zip(self.labels, self.bias, strict=True)}
        idx = np.fromiter(ids, dtype=np.intp, count=len(ids))
        idx.sort()  # sums in one order however the call's segments were encoded (per line, or all at once)
        norm = float(np.sqrt(self.idf2[idx].sum()))
        raw = self.weights[idx].sum(axis=0) / norm + self.bias
        return {lb: float(v) for lb, v in zip(self.labels, raw, strict=True)}

    def knows(self, word: str) -> bool:
        """Whether training saw this word: every character pair of it (or the character) is a feature."""
        n = normalize_text(word)
        if len(n) < 2:
            return n in self.index
        return all(n[i:i + 2] in self.index for i in range(len(n) - 1))

    def strongest(self, segments: Iterable[FeatureIds], label: str, n: int = 3) -> list[str]:
        """The call's features that weigh most for `label` (longest first among equals), for evidence."""
        ids: set[int] = set().union(*segments)  # one C call; the same set, filled in the same order
        if not ids:
            return []
        j = self.labels.index(label)
        idx = np.fromiter(sorted(ids), dtype=np.intp, count=len(ids))
        w = self.weights[idx, j]
        order = np.argsort(-w, kind="stable")  # strongest first; ties by feature id, so it is deterministic
        out: list[str] = []
        for k in order.tolist():
            if w[k] <= 0 or len(out) >= n:
                break
            f = self.features[int(idx[k])]
            if len(f) < 2:
                continue  # a single character explains nothing to a person
            out.append(f)
        return out

    def to_bytes(self) -> bytes:
        art = _Artifact(FORMAT, list(self.labels), list(self.features),
                        self.weights.astype("<f4").tobytes(), [float(b) for b in self.bias],
                        self.idf2.astype("<f4").tobytes(), dict(self.meta))
        return msgspec.msgpack.encode(art)

    @staticmethod
    def from_bytes(data: bytes) -> TextModel:
        """Decode an artifact; raises ValueError when it is corrupt or of another format."""
        try:
            art = msgspec.msgpack.decode(data, type=_Artifact)
        except msgspec.DecodeError as exc:
            raise ValueError(f"model artifact is corrupt: {exc}") from None
        if art.format != FORMAT:
            raise ValueError(f"model artifact has format {art.format}, this version reads {FORMAT}")
        n, k = len(art.features), len(art.labels)
        weights = np.frombuffer(art.weights, dtype="<f4")
        idf2 = np.frombuffer(art.idf2, dtype="<f4")
        if weights.size != n * k or idf2.size != n or len(art.bias) != k:
            raise ValueError("model artifact is corrupt: sizes do not agree")
        return build_model(art.labels, art.features, weights.reshape(n, k), art.bias, idf2, art.meta)


def build_model(labels: Sequence[str], features: Sequence[str], weights: Any, bias: Sequence[float],
                idf2: Any, meta: Mapping[str, Any]) -> TextModel:
    """A TextModel from exported arrays (weights already multiplied by idf)."""
    w = np.ascontiguousarray(weights, dtype=np.float32)
    w.setflags(write=False)
    b = np.asarray(bias, dtype=np.float32)
    b.setflags(write=False)
    d = np.ascontiguousarray(idf2, dtype=np.float32)
    d.setflags(write=False)
    return TextModel(tuple(labels), {f: i for i, f in enumerate(features)}, tuple(features), w, b, d, dict(meta))
