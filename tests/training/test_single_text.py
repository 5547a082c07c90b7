"""The single-text feature paths (single_text: the C hasher and the numpy path) are
bit-identical to featurize([text]), and the loaded predictor's float32 path gives the
probabilities the in-memory trainer gives."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from n3lang.training import features as F
from n3lang.training import single_text
from n3lang.training.single_text import SingleTextFeaturizer, featurize_one, featurizer_for
from n3lang.training.text_model import HashedSoftmax

TEXTS = [
    "", " ", "a", "ab", "abc", "abcd", "abcde", "!!!", "I was charged twice this month",
    "Hi team, account disabled message when i try to sign in!! Please help.",
    "Ünïcödé ÄÖ straße ǅungla İstanbul ﬃ", "日本語 テキスト です", "💥 emoji 💥 ok", "tab\tsep\nnew line",
    "x" * 3000, "hello world " * 300, "snake_case and digits 12 345",
]
SETTINGS = [
    dict(F.DEFAULT_SETTINGS),
    {**F.DEFAULT_SETTINGS, "word_ngrams": [1, 1], "char_ngrams": [3, 5], "n_features_log2": 12},
    {**F.DEFAULT_SETTINGS, "word_ngrams": [2, 2], "char_ngrams": [0, 0], "sublinear_tf": False, "lowercase": False},
    {**F.DEFAULT_SETTINGS, "word_ngrams": [0, 0], "char_ngrams": [2, 2]},
    # four buckets: every text collides, so a bucket's count can pass the text's length
    {**F.DEFAULT_SETTINGS, "n_features_log2": 2},
]
SETTING_IDS = ["default", "words1-chars3to5", "bigrams-only", "chars2", "four-buckets"]
PATHS = [pytest.param(False, id="numpy"),
         pytest.param(True, id="C", marks=pytest.mark.skipif(single_text._hashing is None,
                                                               reason="the C hasher is not built"))]


def assert_same_row(featurizer, text, settings):
    m = F.featurize([text], settings)
    indices, data = featurizer(text)
    assert indices.dtype == np.int64 and data.dtype == np.float32
    assert np.array_equal(indices, m.indices), text
    assert np.array_equal(data.view(np.uint32), m.data.view(np.uint32)), text


def random_texts(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    alphabet = "ab cdé💥_-İ1 \t.,"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(n)]


@pytest.mark.parametrize("native", PATHS)
@pytest.mark.parametrize("settings", SETTINGS, ids=SETTING_IDS)
def test_single_text_paths_equal_featurize(settings, native):
    featurizer = SingleTextFeaturizer(settings, native=native)
    for text in TEXTS + random_texts(300):
        assert_same_row(featurizer, text, settings)


def test_featurize_one_fills_in_default_settings():
    a = featurize_one("reset my password", {})
    b = featurize_one("reset my password", F.DEFAULT_SETTINGS)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_loaded_model_gives_the_trainers_probabilities():
    texts = ["card charged twice", "parcel late", "reset password", "refund please", "where is my order",
             "login fails", "billing question", "tracking number"] * 4
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1] * 4)
    settings = {**F.DEFAULT_SETTINGS, "n_features_log2": 12}
    X = F.featurize(texts, settings)
    model = HashedSoftmax(3, n_features=1 << 12, epochs=3, learning_rate=0.5, seed=3,
                          feature_settings=settings).fit(X, y)
    loaded = HashedSoftmax.from_tensors(model.tensors(), model.config())
    assert loaded.W_ is None  # the sparse (row map) layout, not every bucket stored
    for text in texts + random_texts(50, seed=2):
        ind, dat = featurize_one(text, settings)
        a = model.proba_one(ind, dat)
        b = loaded.proba_one(ind, dat)
        assert np.array_equal(a, b), text
        # the widened float32 einsum equals numpy's mixed float32 x float16 einsum
        mixed = np.einsum("i,ij->j", dat, model.W_.take(ind, axis=0))
        wide = np.einsum("i,ij->j", dat, model.W_.take(ind, axis=0).astype(np.float32))
        assert np.array_equal(mixed, wide)


@hyp_settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=120), which=st.sampled_from(range(len(SETTINGS))), native=st.booleans())
def test_any_text_gives_featurizes_row(text, which, native):
    if native and single_text._hashing is None:
        native = False
    assert_same_row(SingleTextFeaturizer(SETTINGS[which], native=native), text, SETTINGS[which])


def test_the_featurizer_is_shared_per_settings_and_grows_for_long_texts():
    settings = dict(F.DEFAULT_SETTINGS)
    f = featurizer_for(settings)
    assert featurizer_for(dict(settings)) is f
    assert f.native == (single_text._hashing is not None)  # the C hasher whenever it is built
    assert_same_row(f, "word " * 2000, settings)  # past the initial tables: they grow, results stay exact


@pytest.mark.skipif(single_text._hashing is None, reason="the C hasher is not built")
def test_the_c_hasher_refuses_what_does_not_fit_rather_than_overrun():
    table = np.ones(1024)
    clean = " two words ".encode("utf-32-le")
    with pytest.raises(ValueError, match="too small"):
        single_text._hashing.featurize(clean, 2, 4, 5, True, True, 18, table, table,
                                       np.empty(3, np.int64), np.empty(3, np.float32))
    with pytest.raises(ValueError, match="word count"):
        single_text._hashing.featurize(clean, 5, 4, 5, True, True, 18, table, table,
                                       np.empty(99, np.int64), np.empty(99, np.float32))
    with pytest.raises(ValueError, match="settings"):
        single_text._hashing.featurize(clean, 2, 4, 5, True, True, 0, table, table,
                                       np.empty(99, np.int64), np.empty(99, np.float32))
