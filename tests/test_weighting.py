"""Tests of evaluation.weighting: AHP, group AHP, entropy and CRITIC weights."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evaluation.weighting import (
    AHP_METHODS,
    RANDOM_INDEX_TABLES,
    ahp,
    ahp_group,
    comparison_matrix,
    critic_weights,
    entropy_weights,
)
from surveys.errors import DataValidationError, MethodologyError

# ahpy README example; reference README section 4.
AHPY = {("a", "b"): 1, ("a", "c"): 5, ("a", "d"): 2, ("b", "c"): 3, ("b", "d"): 4, ("c", "d"): 3 / 4}

# Saaty (2008), "Decision making with the analytic hierarchy process", Int. J. Services
# Sciences 1(1):83-98: relative consumption of drinks in the United States.
DRINKS_LABELS = ["coffee", "wine", "tea", "beer", "soda", "milk", "water"]
DRINKS = np.array([
    [1, 9, 5, 2, 1, 1, 1 / 2],
    [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
    [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
    [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [1, 9, 4, 2, 1, 2, 1 / 2],
    [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [2, 9, 9, 3, 2, 3, 1],
])

# Reference README section 4: indicator matrix, last column a cost.
X = pd.DataFrame(
    [[82, .91, 4.2, 35], [76, .85, 3.9, 48], [90, .95, 4.6, 22],
     [68, .80, 3.5, 60], [85, .88, 4.4, 30], [79, .93, 4.0, 41]],
    columns=["x1", "x2", "x3", "x4"],
)


def consistent_matrix(w):
    w = np.asarray(w, dtype=float)
    return np.outer(w, 1 / w)


# --- AHP: reference values -------------------------------------------------


def test_ahpy_readme_weights_and_consistency():
    r = ahp(AHPY)
    # ahpy README: {'b': 0.3917, 'a': 0.3742, 'd': 0.1349, 'c': 0.0991}
    expected = {"b": 0.3917, "a": 0.3742, "d": 0.1349, "c": 0.0991}
    for k, v in expected.items():
        assert round(r.weights[k], 4) == v
    assert list(r.weights.index) == ["a", "b", "c", "d"]
    assert round(r.lambda_max, 5) == 4.09246  # reference README section 4
    assert round(r.ci, 5) == 0.03082  # reference README section 4
    assert r.method == "eigenvector"


@pytest.mark.parametrize(
    "table, ri, cr",
    [
        ("saaty1980", 0.90, 0.0342),  # Saaty classic RI(4) = 0.90
        ("saaty2005", 0.89, 0.0346),  # Saaty 2005 RI(4) = 0.89
        ("donegan_dodd", 0.8286, 0.0372),  # Donegan-Dodd RI(4); ahpy prints 0.0372
    ],
)
def test_ahpy_readme_cr_by_named_table(table, ri, cr):
    r = ahp(AHPY, random_index_table=table)
    assert r.random_index == ri
    assert round(r.cr, 4) == cr
    assert r.cr == pytest.approx(r.ci / ri, rel=1e-12)
    frame = r.to_frame()
    assert set(frame["random_index_table"]) == {table}
    assert frame["weight"].sum() == pytest.approx(1.0)


def test_saaty_2008_drinks():
    r = ahp(DRINKS, labels=DRINKS_LABELS)
    # Saaty (2008) / reference README section 4
    expected = {"coffee": 0.1775, "wine": 0.0191, "tea": 0.0418, "beer": 0.1164,
                "soda": 0.1896, "milk": 0.1288, "water": 0.3268}
    for k, v in expected.items():
        assert round(r.weights[k], 4) == v
    assert round(r.lambda_max, 5) == 7.17663
    assert round(r.cr, 3) == 0.022  # classic table, RI(7) = 1.32
    assert round(ahp(DRINKS, labels=DRINKS_LABELS, random_index_table="saaty2005").cr, 3) == 0.022
    # ahpy tests: random_index='dd', precision 4 -> 0.0235
    assert round(ahp(DRINKS, labels=DRINKS_LABELS, random_index_table="donegan_dodd").cr, 4) == 0.0235


def test_random_index_tables_as_published():
    assert [RANDOM_INDEX_TABLES["saaty1980"][n] for n in range(1, 16)] == [
        0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59]
    assert [RANDOM_INDEX_TABLES["saaty2005"][n] for n in range(3, 16)] == [
        0.52, 0.89, 1.11, 1.25, 1.35, 1.40, 1.45, 1.49, 1.52, 1.54, 1.56, 1.58, 1.59]
    dd = RANDOM_INDEX_TABLES["donegan_dodd"]
    assert (dd[3], dd[4], dd[15], dd[20], dd[100]) == (0.4914, 0.8286, 1.4969, 1.5371, 1.6339)
    with pytest.raises(TypeError):
        RANDOM_INDEX_TABLES["saaty1980"][16] = 1.6  # read-only


# --- AHP: hand fixtures and properties -------------------------------------


@pytest.mark.parametrize("method", AHP_METHODS)
def test_consistent_matrix_recovers_weights_exactly(method):
    w = np.array([0.5, 0.3, 0.2])
    r = ahp(consistent_matrix(w), labels=["p", "q", "s"], method=method)
    np.testing.assert_allclose(r.weights.to_numpy(), w, rtol=1e-12)
    assert r.lambda_max == pytest.approx(3.0, abs=1e-12)
    assert r.ci == pytest.approx(0.0, abs=1e-12)
    assert r.consistent


def test_sum_product_and_geometric_by_hand():
    a = np.array([[1, 2, 3], [1 / 2, 1, 2], [1 / 3, 1 / 2, 1]])
    # 和积法: columns sum to 11/6, 7/2, 6; normalise, then average each row
    w_sp = np.array([6 / 11 + 4 / 7 + 1 / 2, 3 / 11 + 2 / 7 + 1 / 3, 2 / 11 + 1 / 7 + 1 / 6]) / 3
    # 方根法: row products 6, 1, 1/6
    g = np.array([6 ** (1 / 3), 1.0, 6 ** (-1 / 3)])
    w_g = g / g.sum()
    for method, w in (("sum_product", w_sp), ("geometric", w_g)):
        r = ahp(a, method=method)
        np.testing.assert_allclose(r.weights.to_numpy(), w, rtol=1e-12)
        assert r.lambda_max == pytest.approx(np.mean(a @ w / w), rel=1e-12)
        assert r.ci == pytest.approx((r.lambda_max - 3) / 2, rel=1e-12)


def test_input_forms_agree_and_order_follows_labels():
    by_dict = ahp(AHPY)
    reversed_pairs = {(q, p): 1 / v for (p, q), v in AHPY.items()}
    assert ahp(reversed_pairs, labels=["a", "b", "c", "d"]).weights.equals(by_dict.weights)
    frame = by_dict.matrix
    np.testing.assert_allclose(ahp(frame).weights, by_dict.weights)
    np.testing.assert_allclose(ahp(frame.to_numpy(), labels=list("abcd")).weights, by_dict.weights)
    # a permutation of the criteria permutes the weights
    perm = ["d", "b", "a", "c"]
    permuted = ahp(frame.loc[perm, perm])
    np.testing.assert_allclose(permuted.weights[perm], by_dict.weights[perm], rtol=1e-10)
    assert list(ahp(frame, labels=perm).weights.index) == perm


def test_rounded_reciprocals_accepted():
    a = [[1, 3, 0.33, 8], [0.33, 1, 0.2, 7], [3, 5, 1, 9], [0.13, 0.14, 0.11, 1]]
    assert ahp(a, allow_inconsistent=True).weights.sum() == pytest.approx(1.0)


def test_sizes_one_and_two():
    one = ahp([[1.0]], labels=["only"])
    assert one.weights["only"] == 1.0 and one.cr == 0.0
    two = ahp({("p", "q"): 3})
    np.testing.assert_allclose(two.weights.to_numpy(), [0.75, 0.25])
    assert (two.ci, two.cr) == (0.0, 0.0)


def test_inconsistent_judgements_raise_with_fix():
    cyclic = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
    with pytest.raises(MethodologyError) as err:
        ahp(cyclic)
    text = str(err.value)
    cr = ahp(cyclic, allow_inconsistent=True).cr
    assert f"CR = {cr:.4f}" in text
    assert "threshold 0.1" in text
    assert "allow_inconsistent=True" in text and "revise the comparisons" in text
    r = ahp(cyclic, allow_inconsistent=True)
    assert not r.consistent and r.cr > 0.1
    np.testing.assert_allclose(r.weights.to_numpy(), [1 / 3] * 3, rtol=1e-10)


def test_threshold_is_an_argument():
    assert not ahp(AHPY, threshold=0.03, allow_inconsistent=True).consistent
    with pytest.raises(MethodologyError):
        ahp(AHPY, threshold=0.03)


@pytest.mark.parametrize(
    "comparisons, fragment",
    [
        ({("a", "b"): 2, ("b", "c"): 3}, "no comparison between 'a' and 'c'"),
        ({("a", "b"): 2, ("b", "a"): 2}, "given twice"),
        ({("a", "b"): 0}, "must be positive"),
        ({("a", "b"): "x"}, "not a number"),
        ({("a", "a"): 2, ("a", "b"): 1}, "diagonal entry ('a', 'a')"),
        ({"ab": 2}, "not a pair"),
        ([[1, 2], [2, 1]], "not reciprocal"),
        ([[1, 2], [0.33, 1]], "not reciprocal"),
        ([[1, 2, 3], [0.5, 1, 2]], "not square"),
        ([[2, 2], [0.5, 1]], "diagonal"),
        ([[1, -2], [-0.5, 1]], "positive and finite"),
        (pd.DataFrame([[1, 2], [0.5, 1]], index=["a", "b"], columns=["a", "c"]), "labels differ"),
    ],
)
def test_invalid_comparisons(comparisons, fragment):
    with pytest.raises(DataValidationError) as err:
        comparison_matrix(comparisons)
    assert fragment in str(err.value)


def test_all_problems_reported_together():
    with pytest.raises(DataValidationError) as err:
        comparison_matrix({("a", "b"): 2, ("c", "d"): 2})
    assert len(err.value.problems) == 4  # a-c, a-d, b-c, b-d


def test_unknown_method_table_and_uncovered_size():
    with pytest.raises(MethodologyError, match="use one of"):
        ahp(AHPY, method="power")
    with pytest.raises(MethodologyError, match="saaty1980"):
        ahp(AHPY, random_index_table="saaty")
    w = np.linspace(1, 2, 16)
    with pytest.raises(MethodologyError, match="n = 16"):
        ahp(consistent_matrix(w))
    assert ahp(consistent_matrix(w), random_index_table="donegan_dodd").random_index == 1.5078


# --- group AHP --------------------------------------------------------------


def test_group_geometric_mean_by_hand():
    e1 = {("a", "b"): 2, ("a", "c"): 4, ("b", "c"): 2}
    e2 = {("a", "b"): 8, ("a", "c"): 4, ("b", "c"): 1 / 2}
    g = ahp_group([e1, e2], allow_inconsistent=True)
    assert g.matrix.loc["a", "b"] == pytest.approx(4.0)  # sqrt(2 * 8)
    assert g.matrix.loc["b", "c"] == pytest.approx(1.0)  # sqrt(2 * 1/2)
    assert g.matrix.loc["c", "a"] == pytest.approx(0.25)
    assert g.n_judges == 2 and len(g.judge_cr) == 2
    weighted = ahp_group([e1, e2], judge_weights=[3, 1], allow_inconsistent=True)
    assert weighted.matrix.loc["a", "b"] == pytest.approx(2 ** 0.75 * 8 ** 0.25)
    # rescaling the expert weights changes nothing
    np.testing.assert_allclose(
        ahp_group([e1, e2], judge_weights=[30, 10], allow_inconsistent=True).weights, weighted.weights)


def test_group_of_identical_experts_equals_single():
    single = ahp(AHPY, random_index_table="saaty2005")
    g = ahp_group([AHPY, AHPY, AHPY], random_index_table="saaty2005")
    np.testing.assert_allclose(g.weights, single.weights, rtol=1e-12)
    assert g.cr == pytest.approx(single.cr, rel=1e-10)
    assert g.judge_cr.to_numpy() == pytest.approx([single.cr] * 3, rel=1e-10)
    assert g.to_frame()["n_judges"].iloc[0] == 3


def test_group_errors():
    with pytest.raises(DataValidationError, match="empty"):
        ahp_group([])
    with pytest.raises(DataValidationError, match="expert 2"):
        ahp_group([AHPY, {("a", "b"): 1}])
    with pytest.raises(DataValidationError, match="different criteria"):
        ahp_group([{("a", "b"): 1}, {("a", "z"): 1}])
    with pytest.raises(DataValidationError, match="expert weights"):
        ahp_group([AHPY, AHPY], judge_weights=[1, -1])


# --- entropy ----------------------------------------------------------------


def test_entropy_reference():
    r = entropy_weights(X, cost=["x4"])
    # reference README section 4 (textbook min-max variant)
    np.testing.assert_allclose(r.entropy, [0.866569, 0.863354, 0.862608, 0.860641], atol=5e-7)
    np.testing.assert_allclose(r.weights, [0.244009, 0.249888, 0.251253, 0.254850], atol=5e-7)
    assert r.variant == "entropy_minmax_textbook"
    frame = r.to_frame()
    assert list(frame["direction"]) == ["benefit"] * 3 + ["cost"]
    assert set(frame["variant"]) == {"entropy_minmax_textbook"}


def test_entropy_by_hand():
    data = pd.DataFrame({"u": [0.0, 1.0, 2.0], "v": [0.0, 5.0, 5.0]})
    r = entropy_weights(data)
    # u -> z = (0, 1/2, 1), p = (0, 1/3, 2/3); v -> z = (0, 1, 1), p = (0, 1/2, 1/2)
    e_u = -(1 / 3 * math.log(1 / 3) + 2 / 3 * math.log(2 / 3)) / math.log(3)
    e_v = math.log(2) / math.log(3)
    assert r.entropy["u"] == pytest.approx(e_u, rel=1e-12)
    assert r.entropy["v"] == pytest.approx(e_v, rel=1e-12)
    assert r.weights["u"] == pytest.approx((1 - e_u) / (2 - e_u - e_v), rel=1e-12)


def test_entropy_invariances():
    base = entropy_weights(X, cost=["x4"]).weights
    rng = np.random.default_rng(7)
    shuffled = X.iloc[rng.permutation(len(X))]
    np.testing.assert_allclose(entropy_weights(shuffled, cost=["x4"]).weights, base, rtol=1e-12)
    rescaled = X * [10.0, 100.0, 0.5, 3.0] + [1.0, -2.0, 5.0, 0.0]
    np.testing.assert_allclose(entropy_weights(rescaled, cost=["x4"]).weights, base, rtol=1e-12)
    flipped = X.assign(x4=-X["x4"])  # a cost negated is a benefit
    np.testing.assert_allclose(entropy_weights(flipped).weights, base, rtol=1e-12)


@pytest.mark.parametrize("func", [entropy_weights, critic_weights])
def test_data_weight_errors(func):
    with pytest.raises(DataValidationError, match="constant"):
        func(X.assign(x2=1.0))
    with pytest.raises(DataValidationError, match="missing or non-numeric"):
        func(X.assign(x3=[1.0, np.nan, 2, 3, 4, 5]))
    with pytest.raises(DataValidationError, match="not a column"):
        func(X, cost=["nope"])
    with pytest.raises(DataValidationError, match="at least 2"):
        func(X.iloc[:1])


# --- CRITIC -----------------------------------------------------------------


def test_critic_reference_with_either_ddof():
    sample = critic_weights(X, cost=["x4"])
    population = critic_weights(X, cost=["x4"], ddof=0)
    # reference README section 4
    for r in (sample, population):
        np.testing.assert_allclose(r.weights, [0.148348, 0.502224, 0.195880, 0.153548], atol=5e-7)
    assert sample.ddof == 1 and sample.variant == "critic_minmax"
    np.testing.assert_allclose(sample.std / population.std, math.sqrt(6 / 5), rtol=1e-12)
    with pytest.raises(MethodologyError):
        critic_weights(X, ddof=2)


def test_critic_by_hand():
    data = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [10.0, 20.0, 40.0], "c": [4.0, 3.0, 1.0]})
    r = critic_weights(data)
    # a and b coincide after normalisation (r = 1); c is their mirror (r = -1);
    # equal sigmas, conflicts 2, 2, 4
    np.testing.assert_allclose(r.conflict, [2.0, 2.0, 4.0], atol=1e-12)
    np.testing.assert_allclose(r.weights, [0.25, 0.25, 0.5], atol=1e-12)
    assert list(r.to_frame().columns) == ["direction", "std", "conflict", "information", "weight",
                                          "variant", "ddof"]
