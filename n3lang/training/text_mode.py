"""The text mode handler (see modes.py for the seam it implements)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np

from n3lang.training import errors, features
from n3lang.training.dataset import json_type_name
from n3lang.training.modes import RowContext, register
from n3lang.training.text_model import HashedSoftmax, Retrieval

# Retrieval is built when the distinct targets exceed this share of the training rows.
RETRIEVAL_UNIQUE_SHARE = 0.5
EXPLAIN_EXAMPLES = 5  # validation rows shown with their contributions in the explain report
GRAM_TABLE_ROWS = 5000  # training rows whose n-grams name the hashed features of the report


def normalize_text(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


class TextHandler:
    name = "text"
    input_fields = ("input",)

    def check_input(self, row: dict, ctx: RowContext):
        if "input" not in row:
            return None, [ctx.problem(
                'missing field "input": each text row needs the text to learn from',
                fix='Add an "input" string to the row.',
                example='{"input": "I forgot my password", "target": "account"}')]
        value = row["input"]
        if not isinstance(value, str):
            return None, [ctx.problem(
                f'field "input" must be a string, got {json_type_name(value)}', key="input",
                fix='Write the input as a JSON string in double quotes.',
                example='{"input": "I forgot my password", "target": "account"}')]
        text = normalize_text(value)
        if not text:
            return None, [ctx.problem('field "input" is empty', key="input",
                                      fix="Give the row some text, or delete the line.")]
        return text, []

    def featurize(self, inputs: list, dataset_dir: Path, settings: dict):
        return features.featurize(list(inputs), settings)

    def make_trainer(self, base, params: dict, labels: list[str], y):
        settings = {k: params.get(k, v) for k, v in features.DEFAULT_SETTINGS.items()}
        settings["word_ngrams"] = list(settings["word_ngrams"])
        settings["char_ngrams"] = list(settings["char_ngrams"])
        n_features = 1 << int(settings["n_features_log2"])
        n_train = max(len(y), 1)
        if len(np.unique(y)) > RETRIEVAL_UNIQUE_SHARE * n_train:
            return Retrieval(len(labels), n_features=n_features, seed=params["seed"], feature_settings=settings)
        return HashedSoftmax(len(labels), n_features=n_features, epochs=params["epochs"],
                             learning_rate=params["learning_rate"], seed=params["seed"],
                             margin=float(params.get("margin", 0.1)), feature_settings=settings,
                             logit_scale=float(params.get("logit_scale", 1.0)))

    def load_trainer(self, kind: str, tensors: dict, config: dict):
        cls = Retrieval if kind == Retrieval.kind else HashedSoftmax
        return cls.from_tensors(tensors, config)

    def explain(self, trainer, X_val, y_val, val_inputs: list, labels: list[str],
                train_inputs: list, top_k: int = 10, examples: int = EXPLAIN_EXAMPLES) -> dict:
        settings = trainer.feature_settings()
        softmax = isinstance(trainer, HashedSoftmax)
        top_raw: dict[str, list[tuple[int, float]]] = {}
        if softmax:
            for k, label in enumerate(labels):
                idx, w = trainer.weight_column(k)
                top_raw[label] = [(int(idx[j]), float(w[j])) for j in _top(w, top_k) if w[j] > 0]
        rows_raw = []
        for i in range(min(examples, len(val_inputs))):
            a, b = X_val.indptr[i], X_val.indptr[i + 1]
            ind, dat = X_val.indices[a:b], X_val.data[a:b]
            proba = trainer.proba_one(ind, dat)
            pred = int(np.argmax(proba))
            row = {"input": val_inputs[i], "target": labels[int(y_val[i])] if y_val is not None else None,
                   "prediction": labels[pred], "confidence": float(proba[pred])}
            contrib = []
            if softmax:
                w = trainer._gather(ind)[:, pred].astype(np.float32) * dat
                contrib = [(int(ind[j]), float(w[j])) for j in _top(w, top_k)]
            else:
                sims = trainer.similarities(ind, dat)
                j = int(np.argmax(sims))
                row["nearest_training_row"] = j
                row["similarity"] = float(sims[j])
            rows_raw.append((row, contrib))
        wanted = {i for lst in top_raw.values() for i, _ in lst} | {i for _, c in rows_raw for i, _ in c}
        texts = list((train_inputs or [])[:GRAM_TABLE_ROWS]) + list(val_inputs[:examples])
        names = features.gram_table(texts, settings, wanted=wanted) if wanted else {}

        def describe(idx: int) -> dict:
            grams = names.get(idx, [])
            return {"feature": int(idx), "ngrams": grams[:5], "collision": len(grams) > 1,
                    "n_ngrams": max(len(grams), 1)}

        method = ("weights of the softmax per class over hashed n-gram features; contributions are "
                  "feature value x weight of the predicted class" if softmax else
                  "nearest training input by cosine similarity over hashed n-gram features")
        out: dict = {"method": method,
                     "hashing": {"buckets": 1 << int(settings["n_features_log2"]), **settings},
                     "notes": ["features are hashed: several n-grams can share one bucket; the n-grams "
                               "seen in the data (first 5000 training rows) for each bucket are listed "
                               "(collisions disclosed)"]}
        if softmax:
            out["top_features"] = {label: [{**describe(i), "weight": w} for i, w in lst]
                                   for label, lst in top_raw.items()}
        examples_out = []
        for row, contrib in rows_raw:
            if softmax:
                row["contributions"] = [{**describe(i), "contribution": c} for i, c in contrib]
            examples_out.append(row)
        out["examples"] = examples_out
        return out

    def load_input(self, value, base_dir: Path):
        if not isinstance(value, str):
            raise errors.fail(errors.PREDICT_INPUT, f"a text model needs text, got {json_type_name(value)}")
        return normalize_text(value)


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k largest values, largest first, ties by position (deterministic and
    without sorting the whole array)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    k = min(k, len(values))
    kth = np.partition(values, len(values) - k)[len(values) - k]
    cand = np.flatnonzero(values >= kth)
    order = np.lexsort((cand, -values[cand]))
    return cand[order][:k]


HANDLER = register(TextHandler())
