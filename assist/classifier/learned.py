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
Ids = npt.NDArray[np.int32]
_add = np.add.reduce
_INT32_MAX = 2**31 - 1
_KNOWN_WORDS = 4096
"""At most this many words' `knows` are kept (then forgotten all at once)."""


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
    _lookup: _CodeLookup | None = field(init=False, repr=False, compare=False)
    """The same features as arrays over code points, for a whole call at once (None: not all 1-2 characters)."""
    _known: dict[str, bool] = field(init=False, repr=False, compare=False)
    """`knows` per word asked (evidence words: a small vocabulary), so a word is normalised once."""

    def __post_init__(self) -> None:
        grams = ahocorasick.Automaton()
        for f, i in self.index.items():
            grams.add_word(f, i)
        if self.index:
            grams.make_automaton()
        object.__setattr__(self, "_grams", grams)
        object.__setattr__(self, "_lookup", _CodeLookup.build(self.index))
        object.__setattr__(self, "_known", {})

    def encode(self, text: str) -> FeatureIds:
        """The known feature ids of one segment (cache this per segment)."""
        return self.encode_normalized(normalize_text(text))

    def encode_normalized(self, n: str) -> FeatureIds:
        """`encode` for text already normalised: the same features as `text_features`, found in one
        C pass of an automaton that holds them all (this runs on every line of every live call)."""
        if not n or not self.index:
            return ()
        return tuple(set(map(_second, self._grams.iter(n))))

    def encode_call(self, n: str) -> Ids:
        """The sorted, distinct feature ids of a whole call's normalised text (segments joined by
        SEPARATOR), found with a few array operations instead of one automaton output per character
        and pair: the cold path (`Classifier.classify`), where no per-line cache exists."""
        lookup = self._lookup
        if lookup is None or not n:
            ids = self.encode_normalized(n)
            return np.array(sorted(ids), dtype=np.int32)
        return lookup.ids(n)

    def scores_of(self, idx: Ids) -> dict[str, float] | None:
        """`scores` for the sorted, distinct ids `encode_call` gives; None when there are none."""
        if not idx.size:
            return None
        return self._score(idx)

    def scores(self, segments: Iterable[FeatureIds]) -> dict[str, float]:
        """label -> decision score for a call made of these encoded segments (0 is the boundary)."""
        ids: set[int] = set().union(*segments)  # one C call; the same set, filled in the same order
        if not ids:
            return {lb: float(b) for lb, b in zip(self.labels, self.bias, strict=True)}
        idx = np.fromiter(ids, dtype=np.intp, count=len(ids))
        idx.sort()  # sums in one order however the call's segments were encoded (per line, or all at once)
        return self._score(idx)

    def _score(self, idx: npt.NDArray[np.integer[Any]]) -> dict[str, float]:
        # ufunc methods rather than .sum(): the same reduction without its Python wrapper (once per call);
        # `take` gathers the same rows as indexing with `idx`, in half the time
        norm = float(np.sqrt(_add(self.idf2.take(idx))))
        raw = _add(self.weights.take(idx, axis=0), axis=0) / norm + self.bias
        return dict(zip(self.labels, raw.tolist(), strict=True))

    def knows(self, word: str) -> bool:
        """Whether training saw this word: every character pair of it (or the character) is a feature."""
        known = self._known.get(word)
        if known is None:
            if len(self._known) >= _KNOWN_WORDS:
                self._known.clear()
            n = normalize_text(word)
            known = n in self.index if len(n) < 2 else all(n[i : i + 2] in self.index for i in range(len(n) - 1))
            self._known[word] = known
        return known

    def strongest(self, segments: Iterable[FeatureIds], label: str, n: int = 3) -> list[str]:
        """The call's features that weigh most for `label` (longest first among equals), for evidence."""
        ids: set[int] = set().union(*segments)  # one C call; the same set, filled in the same order
        if not ids:
            return []
        return self.strongest_of(np.fromiter(sorted(ids), dtype=np.intp, count=len(ids)), label, n)

    def strongest_of(self, idx: Ids, label: str, n: int = 3) -> list[str]:
        """`strongest` for the sorted, distinct ids `encode_call` gives."""
        j = self.labels.index(label)
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
        art = _Artifact(
            FORMAT,
            list(self.labels),
            list(self.features),
            self.weights.astype("<f4").tobytes(),
            [float(b) for b in self.bias],
            self.idf2.astype("<f4").tobytes(),
            dict(self.meta),
        )
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


@dataclass(frozen=True)
class _CodeLookup:
    """Feature ids by code point: one table for single characters, sorted keys for pairs.

    A pair's key is built from its characters' ranks among the characters that occur in any pair (a few
    thousand), not from their code points: the keys fit in 32 bits, so the binary search reads half the
    memory. Each table ends with a sentinel that code points beyond it are clipped to (`take(mode="clip")`),
    and the keys with one no query reaches, so no index needs a bounds check.
    """

    chars: npt.NDArray[np.int32]
    """code point -> id of that character's feature, -1 when it is none (the last entry: every code beyond)."""
    rank: npt.NDArray[np.int32]
    """code point -> rank of the character among those of pairs; `width - 1` when it is in none."""
    width: int
    """Ranks per first character: a pair's key is rank(first) * width + rank(second)."""
    pair_keys: npt.NDArray[np.int32]
    """Sorted, then a sentinel above every key."""
    pair_ids: npt.NDArray[np.int32]
    """The feature id of each key (the sentinel's: -1)."""

    @staticmethod
    def build(index: Mapping[str, int]) -> _CodeLookup | None:
        if not index or any(not 1 <= len(f) <= 2 for f in index):
            return None
        singles = {ord(f): i for f, i in index.items() if len(f) == 1}
        chars = np.full(max(singles, default=0) + 2, -1, dtype=np.int32)
        for code, i in singles.items():
            chars[code] = i
        in_pairs = sorted({ord(c) for f in index if len(f) == 2 for c in f})
        width = len(in_pairs) + 1
        if width * width >= _INT32_MAX:  # some 46,000 characters in pairs: never seen; the automaton then
            return None
        rank = np.full(max(in_pairs, default=0) + 2, width - 1, dtype=np.int32)
        rank[in_pairs] = np.arange(len(in_pairs), dtype=np.int32)
        of = {code: r for r, code in enumerate(in_pairs)}
        pairs = sorted((of[ord(f[0])] * width + of[ord(f[1])], i) for f, i in index.items() if len(f) == 2)
        keys = np.array([k for k, _ in pairs] + [_INT32_MAX], dtype=np.int32)
        ids = np.array([i for _, i in pairs] + [-1], dtype=np.int32)
        for a in (chars, rank, keys, ids):
            a.setflags(write=False)
        return _CodeLookup(chars, rank, width, keys, ids)

    def ids(self, n: str) -> Ids:
        """The sorted distinct ids of every feature (character or pair) that occurs in `n`."""
        codes = np.frombuffer(n.encode("utf-32-le"), dtype=np.uint32)
        single = self.chars.take(codes, mode="clip")
        ranks = self.rank.take(codes, mode="clip")
        queries = ranks[:-1] * self.width
        queries += ranks[1:]
        queries.sort()  # in order, neighbouring searches share the cache lines they read
        keys = self.pair_keys
        at = keys.searchsorted(queries)  # array methods: numpy's functions add a Python wrapper each
        both = np.concatenate((single, self.pair_ids.take(at[keys.take(at) == queries])))
        both.sort()  # then drop repeats: np.unique, without its overhead (this runs once per cold call)
        keep = np.empty(both.size, dtype=bool)
        keep[0] = True
        np.not_equal(both[1:], both[:-1], out=keep[1:])
        distinct = both[keep]
        return distinct[1:] if distinct[0] < 0 else distinct  # -1: characters that are no feature


def build_model(
    labels: Sequence[str],
    features: Sequence[str],
    weights: Any,
    bias: Sequence[float],
    idf2: Any,
    meta: Mapping[str, Any],
) -> TextModel:
    """A TextModel from exported arrays (weights already multiplied by idf)."""
    w = np.ascontiguousarray(weights, dtype=np.float32)
    w.setflags(write=False)
    b = np.asarray(bias, dtype=np.float32)
    b.setflags(write=False)
    d = np.ascontiguousarray(idf2, dtype=np.float32)
    d.setflags(write=False)
    return TextModel(tuple(labels), {f: i for i, f in enumerate(features)}, tuple(features), w, b, d, dict(meta))
