"""The learned text model: features of a text, and scoring with exported linear weights.

Trained offline by `assist.classifier.training` (scikit-learn) and exported here as a
plain weight matrix, so scoring in the live loop is a few dictionary lookups and one
numpy gather: no scikit-learn objects, no vectoriser, nothing that can change between
library versions. Features are per segment (a transcript line, a note), so a live call
caches each segment's feature ids and only its newest line costs anything.

Features: character unigrams and bigrams of the normalised text (traditional folded to
simplified, case and width folded, punctuation dropped), and for Latin-script text its words: each
run of two or more Latin letters in the text as written (`latin_words`), marked with a space, which
normalised text never holds, so a word feature is never a character pair and matches only a whole
word (normalising drops the spaces that bound a word, so words are read from the original text).
Character pairs carry little of an English word ("co", "om", "mp" ...). A call is the union of its segments'
features, weighted by idf and L2-normalised: the same binary TF-IDF that training fits.
Sound features (the syllables of neighbouring characters) were tried: cross-validation over
the blind sets showed no gain, and they doubled the time per line; the rules match by sound.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import ahocorasick
import msgspec
import numpy as np
import numpy.typing as npt

from assist.classifier.model import NONE
from assist.classifier.normalize import normalize_text

FORMAT = 3
"""Bumped whenever `text_features` changes: an artifact of another format is not used."""

SEPARATOR = "\n"
"""Joins a call's segments for training; never inside a feature."""

FeatureIds = tuple[int, ...]
_second = itemgetter(1)
Floats = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int32]
_add = np.add.reduce
_SEPARATOR_CODE = ord(SEPARATOR)
_FIRST = np.zeros(1, dtype=np.intp)
_FIRST.setflags(write=False)

LINE_MARGIN = 0.6
"""A category's call score is at least its score on one customer line alone, less this. The whole
call's text dilutes a category said once among many routine lines (an agent-led call, a long one); read
alone, that line scores as a short call of the category would. Measured by cross-validation, 0.4-1.0, and
set where the folded blind calls did not move (docs/quality.md, session 10)."""
_INT32_MAX = 2**31 - 1
_KNOWN_WORDS = 4096
"""At most this many words' `knows` are kept (then forgotten all at once)."""


WORD_MARK = " "
"""Starts every word feature: normalisation drops spaces, so no character or pair feature holds one."""
_LATIN_RUN = re.compile("[A-Za-z\uff21-\uff3a\uff41-\uff5a]{2,}")
"""A word: two or more Latin letters (ASCII or full-width), bounded by anything else in the original text."""


def latin_words(original: str) -> list[str]:
    """The word features of a text as written: each maximal run of 2+ Latin letters, case and width folded
    ("complain" in "I want to complain!", never "plain" inside it), marked with WORD_MARK."""
    return [WORD_MARK + (w.lower() if w.isascii() else normalize_text(w)) for w in _LATIN_RUN.findall(original)]


def text_features(text: str) -> list[str]:
    """The features of one segment of text (duplicates removed, order of first occurrence)."""
    n = normalize_text(text)
    feats: dict[str, None] = dict.fromkeys(n)
    feats.update(dict.fromkeys(map(str.__add__, n[:-1], n[1:])))
    feats.update(dict.fromkeys(latin_words(text)))
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
    """Aho-Corasick automaton over every character and pair feature -> its id, built once (words are looked up
    in `index`: a word is whole only in the original text, which the automaton does not read)."""
    _has_words: bool = field(init=False, repr=False, compare=False)
    """Whether any feature is a word (a model trained on Chinese text alone skips looking for words)."""
    _lookup: _CodeLookup | None = field(init=False, repr=False, compare=False)
    """The same features as arrays over code points, for a whole call at once (None: not all 1-2 characters)."""
    _known: dict[str, bool] = field(init=False, repr=False, compare=False)
    """`knows` per word asked (evidence words: a small vocabulary), so a word is normalised once."""

    def __post_init__(self) -> None:
        grams = ahocorasick.Automaton()
        for f, i in self.index.items():
            if not f.startswith(WORD_MARK):
                grams.add_word(f, i)
        if len(grams):
            grams.make_automaton()
        object.__setattr__(self, "_grams", grams)
        object.__setattr__(self, "_has_words", any(f.startswith(WORD_MARK) for f in self.index))
        object.__setattr__(self, "_lookup", _CodeLookup.build(self.index))
        object.__setattr__(self, "_known", {})

    def encode(self, text: str) -> FeatureIds:
        """The known feature ids of one segment (cache this per segment)."""
        return self.encode_normalized(normalize_text(text), text)

    def encode_normalized(self, n: str, original: str) -> FeatureIds:
        """`encode` for text already normalised (`n`, from `original`): the same features as `text_features`,
        characters and pairs found in one C pass of an automaton that holds them all (this runs on every
        line of every live call), words by one regular expression over the original."""
        if not n or not self.index:
            return ()
        ids = set(map(_second, self._grams.iter(n))) if len(self._grams) else set()
        if self._has_words:
            ids.update(self._word_ids(original))
        return tuple(ids)

    def _word_ids(self, original: str) -> list[int]:
        index = self.index
        return [index[w] for w in latin_words(original) if w in index]

    def encode_call(self, n: str, originals: str) -> Ids:
        """The sorted, distinct feature ids of a whole call: `n` its normalised text and `originals` its text
        as written (segments joined by SEPARATOR in both, which bounds every word and pair). Characters and
        pairs are found with a few array operations instead of one automaton output per character and pair:
        the cold path (`Classifier.classify`), where no per-line cache exists."""
        lookup = self._lookup
        if lookup is None or not n:
            ids = self.encode_normalized(n, originals)
            return np.array(sorted(ids), dtype=np.int32)
        return lookup.ids(n, self._word_ids(originals) if self._has_words else ())

    def encode_lines(self, ns: Sequence[str], originals: Sequence[str]) -> list[Ids]:
        """`encode_call` of each line on its own (`ns` normalised, `originals` as written), the characters and
        pairs of all of them found in one pass over the lines joined (the cold path reads each customer line
        alone too: `lifted`)."""
        lookup = self._lookup
        if lookup is None:
            return [self.encode_call(n, o) for n, o in zip(ns, originals, strict=True)]
        out = lookup.ids_by_line(SEPARATOR.join(ns), len(ns))
        if self._has_words and latin_words(SEPARATOR.join(originals)):
            for i, original in enumerate(originals):
                words = self._word_ids(original)
                if words:
                    out[i] = np.union1d(out[i], np.array(words, dtype=np.int32))
        return out

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

    def line_scores(self, features: FeatureIds | Ids) -> tuple[float, ...]:
        """One line's score per label (in `labels` order) on its own; empty when it has no known feature."""
        if len(features) == 0:
            return ()
        idx = features if isinstance(features, np.ndarray) else np.array(sorted(features), dtype=np.intp)
        return self.best_line((idx,))

    def best_line(self, each: Sequence[npt.NDArray[np.integer[Any]]]) -> tuple[float, ...]:
        """The best score per label over these lines, each read on its own (sorted, distinct ids per line;
        empty when no line has a known feature). One arithmetic for one line or many, so a line scores the
        same in the live path (a line at a time) and the cold one (all lines at once): each line's sums run
        in its own `reduceat` segment, in the order of its ids."""
        lines = [ids for ids in each if len(ids)]
        if not lines:
            return ()
        if len(lines) == 1:  # the live path: one line as it is said
            flat, starts = lines[0], _FIRST
        else:
            flat = np.concatenate(lines)
            starts = np.zeros(len(lines), dtype=np.intp)
            np.cumsum([len(ids) for ids in lines[:-1]], out=starts[1:])
        norms = np.sqrt(np.add.reduceat(self.idf2.take(flat), starts))
        raw = np.add.reduceat(self.weights.take(flat, axis=0), starts, axis=0) / norms[:, None] + self.bias
        return tuple(np.maximum.reduce(raw, axis=0).tolist())

    def lifted(self, whole: dict[str, float], lines: Iterable[tuple[float, ...]]) -> dict[str, float]:
        """The call's scores with each category raised to its best line's score less `LINE_MARGIN` (`none`
        stays the whole call's: one ordinary line does not make a call ordinary)."""
        scored = [line for line in lines if line]
        if not scored:
            return whole
        best = scored[0] if len(scored) == 1 else tuple(map(max, *scored))  # per label, in C
        out = whole
        for label, v in zip(self.labels, best, strict=True):
            if v - LINE_MARGIN > out[label] and label != NONE:
                if out is whole:
                    out = dict(whole)
                out[label] = v - LINE_MARGIN
        return out

    def knows(self, word: str) -> bool:
        """Whether training saw this word: every character pair of it (or the character), and each Latin word
        in it, is a feature (every English word is made of pairs some other word has)."""
        known = self._known.get(word)
        if known is None:
            if len(self._known) >= _KNOWN_WORDS:
                self._known.clear()
            n = normalize_text(word)
            index = self.index
            known = (n in index if len(n) < 2 else all(n[i : i + 2] in index for i in range(len(n) - 1))) and all(
                w in index for w in latin_words(word)
            )
            self._known[word] = known
        return known

    def strongest(self, segments: Iterable[FeatureIds], label: str, n: int = 3) -> list[str]:
        """The call's features that weigh most for `label` (longest first among equals), for evidence."""
        ids: set[int] = set().union(*segments)  # one C call; the same set, filled in the same order
        if not ids:
            return []
        return self.strongest_of(np.fromiter(sorted(ids), dtype=np.intp, count=len(ids)), label, n)

    def strongest_of(self, idx: Ids, label: str, n: int = 3) -> list[str]:
        """`strongest` for the sorted, distinct ids `encode_call` gives (a word without its mark: as it
        stands in normalised text, where the evidence is looked for)."""
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
            out.append(f[len(WORD_MARK) :] if f.startswith(WORD_MARK) else f)
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
        """The tables of the character and pair features (words are looked up apart: `TextModel._word_ids`)."""
        index = {f: i for f, i in index.items() if not f.startswith(WORD_MARK)}
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

    def ids(self, n: str, more: Sequence[int]) -> Ids:
        """The sorted distinct ids of every feature (character or pair) that occurs in `n`, and of `more`."""
        codes = np.frombuffer(n.encode("utf-32-le"), dtype=np.uint32)
        single = self.chars.take(codes, mode="clip")
        ranks = self.rank.take(codes, mode="clip")
        queries = ranks[:-1] * self.width
        queries += ranks[1:]
        queries.sort()  # in order, neighbouring searches share the cache lines they read
        keys = self.pair_keys
        at = keys.searchsorted(queries)  # array methods: numpy's functions add a Python wrapper each
        found = (single, self.pair_ids.take(at[keys.take(at) == queries]))
        both = np.concatenate((*found, np.array(more, dtype=np.int32)) if more else found)
        both.sort()  # then drop repeats: np.unique, without its overhead (this runs once per cold call)
        keep = np.empty(both.size, dtype=bool)
        keep[0] = True
        np.not_equal(both[1:], both[:-1], out=keep[1:])
        distinct = both[keep]
        return distinct[1:] if distinct[0] < 0 else distinct  # -1: characters that are no feature

    def ids_by_line(self, n: str, lines: int) -> list[Ids]:
        """`ids(line, ())` of each of the `lines` lines of `n` (joined by SEPARATOR), in one pass: every
        position's character and pair, tagged with its line, sorted and made distinct once."""
        codes = np.frombuffer(n.encode("utf-32-le"), dtype=np.uint32)
        single = self.chars.take(codes, mode="clip")
        ranks = self.rank.take(codes, mode="clip")
        queries = ranks[:-1] * self.width
        queries += ranks[1:]
        keys = self.pair_keys
        at = keys.searchsorted(queries)
        pair = self.pair_ids.take(at)
        pair[keys.take(at) != queries] = -1  # a pair across SEPARATOR never matches: its rank is in no key
        line = (codes == _SEPARATOR_CODE).cumsum()
        ids = np.concatenate((single, pair)).astype(np.int64)
        tagged = (np.concatenate((line, line[:-1])) << 32) | ids
        tagged = tagged[ids >= 0]
        tagged.sort()
        keep = np.empty(tagged.size, dtype=bool)
        if tagged.size:
            keep[0] = True
            np.not_equal(tagged[1:], tagged[:-1], out=keep[1:])
        tagged = tagged[keep]
        bounds = (tagged >> 32).searchsorted(np.arange(lines + 1))
        flat = (tagged & 0xFFFFFFFF).astype(np.int32)
        return [flat[bounds[i] : bounds[i + 1]] for i in range(lines)]


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
