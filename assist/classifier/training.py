"""Fit the learned text model with scikit-learn, and estimate it honestly with k-fold cross-validation.

Pure functions of their inputs (data in, model out; a fixed seed, sorted vocabulary), so
the same samples always give the same model. They are CPU-heavy (about a second per
thousand samples), so the shells run them in a worker process, never in the live loop.
scikit-learn is imported here only: scoring (`learned.TextModel`) needs numpy alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assist.classifier.learned import TextModel, build_model, call_features

C = 0.5
"""LinearSVC regularisation, chosen by cross-validation on the default pack (0.25-1 are within a point)."""
FOLDS = 5
SEED = 0


@dataclass(frozen=True, slots=True)
class Example:
    """One training text (a call's segments, or one agent line) and its labels."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    alone: tuple[bool, ...] = ()
    """Per text: the model also reads it on its own (`TextModel.lifted`: a customer's line)."""


class TooFewExamples(ValueError):
    """A label has too few positive examples to learn from; `labels` names them."""

    def __init__(self, labels: Mapping[str, int], minimum: int) -> None:
        self.labels = dict(labels)
        self.minimum = minimum
        names = ", ".join(f"{k} ({v})" for k, v in labels.items())
        super().__init__(f"too few samples to train the model (at least {minimum} each): {names}")


def check_counts(examples: Sequence[Example], labels: Sequence[str], minimum: int) -> None:
    """Raise TooFewExamples naming every label with fewer than `minimum` positive examples."""
    counts = {lb: 0 for lb in labels}
    for ex in examples:
        for lb in set(ex.labels):
            if lb in counts:
                counts[lb] += 1
    few = {lb: n for lb, n in counts.items() if n < minimum}
    if few:
        raise TooFewExamples(few, minimum)


def _counts(examples: Sequence[Example]) -> tuple[list[str], Any]:
    """Each example's features read once: the sorted vocabulary, and a binary example x feature matrix (CSR)."""
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(analyzer=call_features, binary=True, lowercase=False, dtype=np.float64)
    x = vec.fit_transform([ex.texts for ex in examples]).tocsr()
    return vec.get_feature_names_out().tolist(), x


def _tfidf(counts: Any, rows: Any) -> tuple[Any, Any, Any]:
    """What `TfidfVectorizer(binary=True, smooth_idf=True, norm="l2")` fits on the examples `rows` alone: their
    matrix over the features they hold, those features' columns in `counts`, and their idf.

    A cross-validation fold is a subset of the examples, so the features are read once for all folds (reading them
    was half of a cross-validation's time) and each fold keeps the columns its own examples use, as a vectoriser
    fitted on the fold alone would: the same sorted vocabulary, idf and norms (`test_learned` compares them).
    """
    from sklearn.preprocessing import normalize

    x = counts[rows]
    df = np.bincount(x.indices, minlength=x.shape[1])
    columns = np.flatnonzero(df)
    x = x[:, columns].tocsr()
    x.sort_indices()
    smoothed = df[columns].astype(np.float64) + 1.0
    idf = np.full_like(smoothed, fill_value=x.shape[0] + 1, dtype=np.float64)
    idf /= smoothed
    np.log(idf, out=idf)
    idf += 1.0
    x.data *= idf[x.indices]
    return normalize(x, norm="l2", copy=False), columns, idf


def _fit(x: Any, examples: Sequence[Example], labels: Sequence[str], c: float) -> tuple[Any, Any]:
    """Weights (n_features x n_labels) and biases of one binary LinearSVC per label."""
    from sklearn.svm import LinearSVC

    coef = np.zeros((x.shape[1], len(labels)))
    bias = np.zeros(len(labels))
    for j, lb in enumerate(labels):
        y = np.array([lb in ex.labels for ex in examples], dtype=np.int8)
        if y.min() == y.max():  # nothing to separate: always (never) this label
            bias[j] = 1.0 if y[0] else -1.0
            continue
        clf = LinearSVC(C=c, class_weight="balanced", random_state=SEED, max_iter=5000)
        clf.fit(x, y)
        coef[:, j] = clf.coef_[0]
        bias[j] = clf.intercept_[0]
    return coef, bias


def train(
    examples: Sequence[Example], labels: Sequence[str], *, c: float = C, meta: Mapping[str, Any] | None = None
) -> TextModel:
    """Fit one-vs-rest linear models over binary TF-IDF features and export their weights."""
    features, counts = _counts(examples)
    return _train_rows(features, counts, np.arange(len(examples)), examples, labels, c, meta)


def _train_rows(
    features: Sequence[str],
    counts: Any,
    rows: Any,
    examples: Sequence[Example],
    labels: Sequence[str],
    c: float,
    meta: Mapping[str, Any] | None = None,
) -> TextModel:
    """The model trained on the examples `rows` alone, from the features of all of them (`_counts`)."""
    x, columns, idf = _tfidf(counts, rows)
    coef, bias = _fit(x, [examples[i] for i in rows], labels, c)
    keep = np.abs(coef).max(axis=1) > 1e-6  # features no label uses cost lookups and bytes for nothing
    return build_model(
        labels,
        [features[i] for i in columns[keep]],
        coef[keep] * idf[keep, None],
        bias,
        (idf[keep] ** 2),
        {"samples": len(rows), "c": c, **(meta or {})},
    )


def cross_validate(
    examples: Sequence[Example], labels: Sequence[str], *, folds: int = FOLDS, c: float = C
) -> list[dict[str, float]]:
    """Held-out decision scores for every example (k folds, stratified by the first label).

    A score on samples the model was trained on is not a score: each example here is
    scored by a model that never saw it.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    primary = [ex.labels[0] if ex.labels else "" for ex in examples]
    counts: dict[str, int] = {}
    for p in primary:
        counts[p] = counts.get(p, 0) + 1
    out: list[dict[str, float]] = [{} for _ in examples]
    if len(examples) < 2 * folds:
        return out
    # Stratify by primary label when every label has a sample in each fold; otherwise plain folds.
    splitter: Any = (
        StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
        if min(counts.values()) >= folds
        else KFold(n_splits=folds, shuffle=True, random_state=SEED)
    )
    features, matrix = _counts(examples)
    for train_idx, test_idx in splitter.split(np.zeros(len(examples)), primary):
        model = _train_rows(features, matrix, train_idx, examples, labels, c)
        for i in test_idx:
            encoded = [model.encode(t) for t in examples[i].texts]
            lines = (model.line_scores(e) for e, alone in zip(encoded, examples[i].alone, strict=False) if alone)
            out[i] = model.lifted(model.scores(encoded), lines)
    return out
