"""Item analysis: published values on LSAT section 6, planted truth in simulations, the CSV reader, the CLI.

Published values (LSAT section 6, Bock & Lieberman 1970, 1000 examinees in 32 response patterns; the data
as shipped with R ltm (`LSAT`) and as the OpenBUGS/Stan `lsat` example, `culm` cumulative counts):
- proportions correct .924, .709, .553, .763, .870 (ltm `descript(LSAT)`; Bock & Lieberman 1970, table 1);
- Cronbach's alpha 0.295 (ltm `cronbach.alpha(LSAT)`, RKWard test standard
  tests/item_response_theory/RKTestStandard.Cronbach_alpha.rkout);
- alpha if item deleted 0.28, 0.24, 0.22, 0.25, 0.27 (ltm `descript(LSAT)$alpha`, RKWard
  tests/item_response_theory/Cronbach_alpha.rkout, printed to two decimals).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import typer
from scipy import integrate, special
from typer.testing import CliRunner

from metodist.analysis.cli import item_stats_command
from metodist.analysis.item_stats import (
    ItemStatsError,
    cronbach_alpha,
    item_statistics,
    read_response_csv,
    weighted_covariance,
)

LSAT_P = [0.924, 0.709, 0.553, 0.763, 0.870]
LSAT_ALPHA = 0.295
LSAT_ALPHA_IF_DELETED = [0.28, 0.24, 0.22, 0.25, 0.27]


@pytest.fixture
def lsat(samples):
    matrix = read_response_csv(samples / "item-stats" / "lsat6.csv")
    return item_statistics(matrix.scores, weights=matrix.weights, max_scores=[1] * 5, tasks=matrix.tasks)


def test_lsat_published_values(lsat):
    assert lsat.n == 1000
    assert [round(t.difficulty, 3) for t in lsat.tasks] == LSAT_P
    assert round(lsat.alpha, 3) == LSAT_ALPHA
    assert [round(t.alpha_if_deleted, 2) for t in lsat.tasks] == LSAT_ALPHA_IF_DELETED
    # Frequencies of total scores follow from the published pattern counts.
    assert lsat.score_distribution == {0: 3, 1: 20, 2: 85, 3: 237, 4: 357, 5: 298}
    assert [t.task for t in lsat.tasks] == ["Item 1", "Item 2", "Item 3", "Item 4", "Item 5"]
    # Weak but positive items: nothing to flag.
    assert all(t.flags == [] for t in lsat.tasks)
    assert all(0.1 < t.item_rest < t.item_total for t in lsat.tasks)


def test_weights_equal_expanded_rows(samples):
    matrix = read_response_csv(samples / "item-stats" / "lsat6.csv")
    expanded = np.repeat(matrix.scores, matrix.weights.astype(int), axis=0)
    weighted = item_statistics(matrix.scores, weights=matrix.weights, max_scores=[1] * 5)
    plain = item_statistics(expanded, max_scores=[1] * 5)
    assert plain.alpha == pytest.approx(weighted.alpha, abs=1e-12)
    for a, b in zip(plain.tasks, weighted.tasks, strict=True):
        assert a.item_rest == pytest.approx(b.item_rest, abs=1e-12)
        assert a.sd == pytest.approx(b.sd, abs=1e-12)
    # Item-rest correlation is the Pearson correlation with the rest score (independent check).
    rest = expanded.sum(axis=1) - expanded[:, 2]
    assert plain.tasks[2].item_rest == pytest.approx(np.corrcoef(expanded[:, 2], rest)[0, 1], abs=1e-12)
    assert plain.tasks[2].sd == pytest.approx(np.std(expanded[:, 2], ddof=1), abs=1e-12)


def _rasch(rng, theta, b, slope=1.0):
    p = special.expit(slope * (theta[:, None] - np.asarray(b)[None, :]))
    return (rng.random(p.shape) < p).astype(float)


def test_planted_reversed_and_random_items_are_flagged():
    rng = np.random.default_rng(7)
    theta = rng.normal(size=2000)
    good = _rasch(rng, theta, np.linspace(-1.5, 1.5, 10), slope=1.7)
    reversed_item = 1 - _rasch(rng, theta, [0.0], slope=1.7)
    random_item = (rng.random((2000, 1)) < 0.5).astype(float)
    scores = np.hstack([good, reversed_item, random_item])
    result = item_statistics(scores, max_scores=[1] * 12)
    flags = {t.task: t.flags for t in result.tasks}
    assert flags["11"] == ["negative_discrimination"]
    assert flags["12"] == ["near_zero_discrimination"]
    assert all(flags[str(j)] == [] for j in range(1, 11))
    assert "сильные ученики выполняют хуже слабых" in result.tasks[10].reasons[0]
    # Removing the bad items raises alpha; removing a good one lowers it.
    assert result.tasks[10].alpha_if_deleted > result.alpha
    assert result.tasks[11].alpha_if_deleted > result.alpha
    assert result.tasks[4].alpha_if_deleted < result.alpha


def test_parallel_items_alpha_matches_spearman_brown():
    """Ten parallel Rasch items (b = 0): alpha equals the Spearman–Brown reliability k·ρ / (1 + (k−1)·ρ)
    with ρ the population inter-item correlation, computed here by integration over θ ~ N(0, 1)."""
    k, slope = 10, 1.5
    density = lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    p = integrate.quad(lambda t: special.expit(slope * t) * density(t), -10, 10)[0]
    p11 = integrate.quad(lambda t: special.expit(slope * t) ** 2 * density(t), -10, 10)[0]
    rho = (p11 - p * p) / (p * (1 - p))
    expected = k * rho / (1 + (k - 1) * rho)
    rng = np.random.default_rng(11)
    scores = _rasch(rng, rng.normal(size=20000), [0.0] * k, slope=slope)
    result = item_statistics(scores, max_scores=[1] * k)
    assert result.alpha == pytest.approx(expected, abs=0.015)
    assert 0.5 < expected < 0.9  # the check is not vacuous


def test_too_easy_and_too_hard_flags_and_multi_point_difficulty():
    rng = np.random.default_rng(3)
    theta = rng.normal(size=3000)
    scores = _rasch(rng, theta, [-4.5, 4.5, -0.5, 0, 0.5], slope=2.0)
    scores[:, 4] += _rasch(rng, theta, [0.0], slope=2.0)[:, 0]  # a 2-point task
    result = item_statistics(scores, max_scores=[1, 1, 1, 1, 2])
    assert "too_easy" in result.tasks[0].flags
    assert "too_hard" in result.tasks[1].flags
    assert result.tasks[4].difficulty == pytest.approx(scores[:, 4].mean() / 2)
    assert all(t.flags == [] for t in result.tasks[2:])


def test_missing_data_policy():
    nan = math.nan
    scores = np.array([
        [1, 1, 1], [1, 0, 1], [0, 0, 0], [1, 1, 0], [0, 1, nan], [nan, nan, nan],
    ])
    result = item_statistics(scores, max_scores=[1, 1, 1])
    assert result.n == 5  # the absent pupil (no score at all) is dropped
    assert result.n_complete == 4
    assert result.tasks[0].difficulty == pytest.approx(3 / 5)  # available cases
    assert result.tasks[2].difficulty == pytest.approx(2 / 4)
    complete = scores[:4]
    assert result.alpha == pytest.approx(cronbach_alpha(np.cov(complete, rowvar=False)), abs=1e-12)
    assert sum(result.score_distribution.values()) == 4
    assert any("меньше 30" in w for w in result.warnings)


def test_degenerate_inputs_give_none_not_errors():
    result = item_statistics(np.ones((5, 3)), max_scores=[1, 1, 1])
    assert result.alpha is None
    assert all(t.item_rest is None and t.flags == ["too_easy"] for t in result.tasks)
    one = item_statistics(np.array([[1.0], [0.0], [1.0]]), max_scores=[1])
    assert one.alpha is None and one.tasks[0].alpha_if_deleted is None


def test_score_above_maximum_is_an_error():
    with pytest.raises(ItemStatsError, match=r"Балл за задание 2 \(3\) больше максимального \(2\)\."):
        item_statistics(np.array([[1, 3], [0, 1]]), max_scores=[1, 2])


def test_weighted_covariance_matches_numpy():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, size=(50, 4)).astype(float)
    w = rng.integers(1, 5, size=50).astype(float)
    assert np.allclose(weighted_covariance(x, w), np.cov(x, rowvar=False, fweights=w.astype(int)))


# --- CSV reader --------------------------------------------------------------------------------------

def test_csv_comma_cp1251_max_row_and_id_column(tmp_path):
    path = tmp_path / "class.csv"
    path.write_bytes("Ученик,З1,З2,З3\nмакс,1,2,1\nА,1,2,\nБ,0,1,1\nВ,1,0,0\n".encode("cp1251"))
    matrix = read_response_csv(path)
    assert matrix.tasks == ["З1", "З2", "З3"]
    assert matrix.max_scores.tolist() == [1, 2, 1]
    assert matrix.weights is None
    assert np.isnan(matrix.scores[0, 2]) and matrix.scores.shape == (3, 3)


@pytest.mark.parametrize(("content", "message"), [
    ("1;2\nx;1\n", "В строке 2 в столбце «1» не число: «x»."),
    ("1;2;вес\n1;1;-2\n", "В строке 2 вес «-2» должен быть неотрицательным числом."),
    ("", "пуст"),
    ("1;2\n", "нет строк с баллами"),
])
def test_csv_errors(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ItemStatsError, match=message.replace("(", r"\(")):
        read_response_csv(path)


# --- CLI ---------------------------------------------------------------------------------------------

@pytest.fixture
def cli():
    app = typer.Typer()
    app.command("item-stats")(item_stats_command)
    app.command("other")(lambda: None)  # more than one command, so the name is required as in metodist
    return app


def test_cli_json_on_lsat(cli, samples):
    result = CliRunner().invoke(cli, ["item-stats", str(samples / "item-stats" / "lsat6.csv"), "--json",
                                      "--max", "1,1,1,1,1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["n"] == 1000
    assert round(data["alpha"], 3) == LSAT_ALPHA
    assert [round(t["difficulty"], 3) for t in data["tasks"]] == LSAT_P
    assert [round(t["alpha_if_deleted"], 2) for t in data["tasks"]] == LSAT_ALPHA_IF_DELETED
    assert {"task", "difficulty", "discrimination", "alpha_if_deleted", "flags"} <= set(data["tasks"][0])
    assert data["score_distribution"] == {"0": 3, "1": 20, "2": 85, "3": 237, "4": 357, "5": 298}


def test_cli_table(cli, samples):
    result = CliRunner().invoke(cli, ["item-stats", str(samples / "item-stats" / "lsat6.csv")])
    assert result.exit_code == 0, result.output
    assert "Альфа Кронбаха: 0.295." in result.stdout
    assert "Item 3" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["missing.csv"], "не найден"),
    (["{lsat}", "--max", "1,1"], "Максимальных баллов указано: 2, а заданий в файле: 5."),
    (["{lsat}", "--max", "a,b"], "числами через запятую"),
    (["{lsat}", "--max", "1,1,1,1,0.5"], "В строке 3 балл за задание Item 5 (1) больше максимального (0,5)."),
])
def test_cli_errors_are_russian_without_traceback(cli, samples, args, message):
    args = [a.format(lsat=samples / "item-stats" / "lsat6.csv") for a in args]
    result = CliRunner().invoke(cli, ["item-stats", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
