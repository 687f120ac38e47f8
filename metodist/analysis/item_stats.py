"""Classical item analysis of a response matrix: difficulty, discrimination, Cronbach's alpha.

Plain functions on NumPy arrays (pupils × tasks, scores 0..max, NaN = no score), with optional
pattern weights (how many pupils gave each row) and per-task maxima. No Django and no database here:
the analysis app feeds these functions with matrices it aggregates, and `metodist item-stats` feeds
them with a CSV file, so that the figures can be checked against published datasets.

Missing data (see docs/methods.md, «Анализ заданий»):

* a row with no score at all is a pupil who was absent and is dropped;
* difficulty and SD of a task use every pupil who has a score for that task (available cases), so
  that the solve rate agrees with the standard report «выполнение заданий»;
* Cronbach's alpha, alpha if item deleted, the item-rest and item-total correlations and the score
  distribution use the pupils with a score for every task (listwise), so that they all describe the
  same group and alpha if item deleted is comparable with alpha.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from django.utils.translation import gettext as _

from metodist.core.numbers import format_text

#: A task whose item-rest correlation is below this (in absolute value) barely separates strong
#: pupils from weak ones. Ebel's scale calls r < 0.20 poor; 0.10 marks "no relation at all".
NEAR_ZERO_DISCRIMINATION = 0.10
#: Solve rates above / below these leave almost no variance to discriminate with.
TOO_EASY = 0.95
TOO_HARD = 0.05
#: Below this many complete rows a correlation has a standard error of about 0.18 or more.
SMALL_GROUP = 30

WEIGHT_COLUMNS = ("weight", "вес", "n")
MAX_ROW_LABELS = ("max", "макс", "максимум", "максимальный балл")
ID_COLUMNS = ("id", "код", "код участника", "ученик", "участник", "pupil", "№")


class ItemStatsError(ValueError):
    """Bad input: the message is a Russian sentence for the user."""


@dataclass
class TaskStats:
    task: str
    max_score: float
    n: float
    mean: float | None
    difficulty: float | None
    sd: float | None
    item_rest: float | None
    item_total: float | None
    alpha_if_deleted: float | None
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def discrimination(self) -> float | None:
        return self.item_rest


@dataclass
class ItemAnalysis:
    n: float
    n_complete: float
    alpha: float | None
    tasks: list[TaskStats]
    score_distribution: dict[float, float]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        def number(value):
            if value is None:
                return None
            value = float(value)
            return int(value) if value.is_integer() else value

        return {
            "n": number(self.n),
            "n_complete": number(self.n_complete),
            "alpha": self.alpha,
            "tasks": [
                {**asdict(t), "discrimination": t.discrimination, "n": number(t.n),
                 "max_score": number(t.max_score)}
                for t in self.tasks
            ],
            "score_distribution": {str(number(k)): number(v) for k, v in self.score_distribution.items()},
            "warnings": list(self.warnings),
        }


def weighted_covariance(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Covariance matrix of the columns of `scores` with frequency weights.

    Notes
    -----
    With frequency weights :math:`w_i` (pupils per response pattern) and :math:`W = \\sum_i w_i`,

    .. math:: \\bar x_j = \\frac{1}{W}\\sum_i w_i x_{ij}, \\qquad
              c_{jk} = \\frac{1}{W - 1}\\sum_i w_i (x_{ij} - \\bar x_j)(x_{ik} - \\bar x_k),

    which is exactly the sample covariance of the matrix with every pattern repeated :math:`w_i` times.
    """
    total = weights.sum()
    means = weights @ scores / total
    centred = scores - means
    return (centred * weights[:, None]).T @ centred / (total - 1)


def cronbach_alpha(covariance: np.ndarray) -> float | None:
    """Cronbach's alpha from the covariance matrix of the task scores.

    Notes
    -----
    .. math:: \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\sum_j s_j^2}{s_X^2}\\right),

    where :math:`k` is the number of tasks, :math:`s_j^2` the variance of task :math:`j` and
    :math:`s_X^2 = \\sum_{j,l} c_{jl}` the variance of the total score. Undefined (None) for fewer than
    two tasks or a total score without variance.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika, 16(3), 297–334.
    """
    k = covariance.shape[0]
    total_variance = float(covariance.sum())
    if k < 2 or total_variance <= 0:
        return None
    return k / (k - 1) * (1 - float(np.trace(covariance)) / total_variance)


def _correlation(covariance: float, var_a: float, var_b: float) -> float | None:
    if var_a <= 1e-12 or var_b <= 1e-12:
        return None
    return covariance / math.sqrt(var_a * var_b)


def item_statistics(
    scores,
    *,
    weights=None,
    max_scores=None,
    tasks: list[str] | None = None,
) -> ItemAnalysis:
    """Classical item analysis of a response matrix.

    Parameters
    ----------
    scores : array_like, shape (pupils, tasks)
        Points per pupil and task, 0..max; NaN where the pupil has no score for the task.
    weights : array_like, shape (pupils,), optional
        How many pupils each row stands for (response-pattern counts); 1 each by default.
    max_scores : array_like, shape (tasks,), optional
        Maximum points per task; the largest observed score when not given (with a warning).
    tasks : list of str, optional
        Task names (numbers) for the report; "1", "2", … by default.

    Returns
    -------
    ItemAnalysis
        Number of pupils, Cronbach's alpha, per-task statistics with flags and Russian reasons, and
        the distribution of total scores (weighted counts per score).

    Notes
    -----
    For task :math:`j` with maximum :math:`m_j`, on the pupils with a score for it:
    difficulty :math:`p_j = \\bar x_j / m_j` (the solve rate) and the SD :math:`s_j` (frequency weights).
    On the pupils with a score for every task, with total :math:`X = \\sum_j x_j`:
    item-total correlation :math:`r_{jX} = \\operatorname{cov}(x_j, X)/(s_j s_X)`;
    item-rest (corrected item-total) correlation, the discrimination reported here,

    .. math:: r_{j,X-j} = \\frac{\\operatorname{cov}(x_j, X) - s_j^2}
              {s_j\\sqrt{s_X^2 - 2\\operatorname{cov}(x_j, X) + s_j^2}},

    which for a 0/1 task is the point-biserial correlation with the rest score; alpha
    (:func:`cronbach_alpha`) and alpha if item deleted (alpha of the other :math:`k-1` tasks).
    Flags: item-rest :math:`r \\le -0.10` (negative discrimination), :math:`|r| < 0.10` (near zero),
    :math:`p > 0.95` (too easy), :math:`p < 0.05` (too hard).

    References
    ----------
    Cronbach, L. J. (1951). Psychometrika, 16, 297–334.
    Crocker, L., Algina, J. (1986). Introduction to Classical and Modern Test Theory, ch. 14.
    Ebel, R. L. (1965). Measuring Educational Achievement. Prentice-Hall (discrimination guidelines).
    Checked against ltm::descript and ltm::cronbach.alpha on LSAT section 6 (Bock & Lieberman, 1970).
    """
    x = np.asarray(scores, dtype=float)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ItemStatsError(_("В таблице нет ни одного задания."))
    n_tasks = x.shape[1]
    names = list(tasks) if tasks is not None else [str(j + 1) for j in range(n_tasks)]
    if len(names) != n_tasks:
        raise ItemStatsError(_("Число названий заданий не совпадает с числом столбцов."))
    w = np.ones(x.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (x.shape[0],):
        raise ItemStatsError(_("Число весов не совпадает с числом строк."))
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ItemStatsError(_("Вес строки должен быть неотрицательным числом."))
    if np.any(np.isinf(x)):
        raise ItemStatsError(_("В таблице есть бесконечные значения баллов."))
    if np.nanmin(x, initial=0) < 0:
        raise ItemStatsError(_("В таблице есть отрицательные баллы."))

    warnings: list[str] = []
    present = ~np.all(np.isnan(x), axis=1) & (w > 0)
    x, w = x[present], w[present]

    if max_scores is None:
        maxima = np.array([np.nanmax(x[:, j], initial=0) for j in range(n_tasks)])
        warnings.append(_("Максимальные баллы не заданы: взяты наибольшие баллы, встретившиеся в данных."))
    else:
        maxima = np.asarray(max_scores, dtype=float)
        if maxima.shape != (n_tasks,):
            raise ItemStatsError(
                format_text(_("Максимальных баллов указано: {given}, а заданий в файле: {tasks}."),
                    given=maxima.size, tasks=n_tasks))
        for j in range(n_tasks):
            top = np.nanmax(x[:, j], initial=0)
            if top > maxima[j]:
                raise ItemStatsError(
                    format_text(_("Балл за задание {task} ({score:g}) больше максимального ({max:g})."),
                        task=names[j], score=top, max=maxima[j]))

    complete = ~np.any(np.isnan(x), axis=1)
    xc, wc = x[complete], w[complete]
    n_complete = float(wc.sum())
    if n_complete >= 2:
        cov = weighted_covariance(xc, wc)
        alpha = cronbach_alpha(cov)
    else:
        cov = None
        alpha = None
    if n_complete < SMALL_GROUP:
        warnings.append(
            format_text(_("Полностью заполненных строк меньше {limit}: корреляции и альфа неустойчивы."),
                limit=SMALL_GROUP))

    results = []
    for j in range(n_tasks):
        has = ~np.isnan(x[:, j])
        wj, xj = w[has], x[has, j]
        nj = float(wj.sum())
        mean = float(wj @ xj / nj) if nj > 0 else None
        sd = (math.sqrt(float(wj @ (xj - mean) ** 2) / (nj - 1)) if nj > 1 else None)
        difficulty = mean / maxima[j] if mean is not None and maxima[j] > 0 else None
        item_rest = item_total = alpha_deleted = None
        if cov is not None:
            var_j = float(cov[j, j])
            var_total = float(cov.sum())
            cov_jx = float(cov[j].sum())
            item_total = _correlation(cov_jx, var_j, var_total)
            item_rest = _correlation(cov_jx - var_j, var_j, var_total - 2 * cov_jx + var_j)
            keep = [i for i in range(n_tasks) if i != j]
            alpha_deleted = cronbach_alpha(cov[np.ix_(keep, keep)])
        stats = TaskStats(task=names[j], max_score=float(maxima[j]), n=nj, mean=mean,
                          difficulty=difficulty, sd=sd, item_rest=item_rest, item_total=item_total,
                          alpha_if_deleted=alpha_deleted)
        _flag(stats)
        results.append(stats)

    distribution: dict[float, float] = {}
    if len(xc):
        totals = xc.sum(axis=1)
        for value in np.unique(totals):
            distribution[float(value)] = float(wc[totals == value].sum())

    return ItemAnalysis(n=float(w.sum()), n_complete=n_complete, alpha=alpha, tasks=results,
                        score_distribution=distribution, warnings=warnings)


def _flag(stats: TaskStats) -> None:
    r, p = stats.item_rest, stats.difficulty
    if r is not None and r <= -NEAR_ZERO_DISCRIMINATION:
        stats.flags.append("negative_discrimination")
        stats.reasons.append(format_text(_(
            "Задание {task} сильные ученики выполняют хуже слабых (корреляция с остальной работой {r:.2f}): "
            "проверьте ключ, условие и критерии оценивания."), task=stats.task, r=r))
    elif r is not None and abs(r) < NEAR_ZERO_DISCRIMINATION:
        stats.flags.append("near_zero_discrimination")
        stats.reasons.append(format_text(_(
            "Задание {task} почти не отличает сильных учеников от слабых (корреляция с остальной "
            "работой {r:.2f}): результат по нему похож на случайный."), task=stats.task, r=r))
    if p is not None and p > TOO_EASY:
        stats.flags.append("too_easy")
        stats.reasons.append(format_text(_(
            "Задание {task} выполнили почти все ({pct:.0f}%): оно не различает учеников."),
                task=stats.task, pct=100 * p))
    elif p is not None and p < TOO_HARD:
        stats.flags.append("too_hard")
        stats.reasons.append(format_text(_(
            "Задание {task} почти никто не выполнил ({pct:.0f}%): оно не различает учеников."),
                task=stats.task, pct=100 * p))


# --- reading a response matrix from CSV -------------------------------------------------------------

@dataclass
class ResponseMatrix:
    tasks: list[str]
    scores: np.ndarray
    weights: np.ndarray | None
    max_scores: np.ndarray | None
    row_numbers: list[int] = field(default_factory=list)

    def check_maxima(self, maxima) -> None:
        """Raise on the first score above its task's maximum, naming the file's row."""
        maxima = np.asarray(maxima, dtype=float)
        for i, row in enumerate(self.scores):
            for j, value in enumerate(row):
                if value > maxima[j]:
                    raise ItemStatsError(format_text(_(
                        "В строке {row} балл за задание {task} ({score:g}) больше максимального ({max:g})."), row=self.row_numbers[i], task=self.tasks[j], score=value, max=maxima[j]))


def _number(text: str) -> float | None:
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if text in ("", "-", "—", "NA", "na", "NaN", "nan", "отс", "отсутствовал", "н"):
        return None
    return float(text.replace(",", "."))


def parse_max_option(text: str, n_tasks: int | None = None) -> np.ndarray:
    """`--max 1,1,2` (or `1;1;2`, `1 1 2`) → array of maxima."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    try:
        values = np.array([float(p) for p in parts])
    except ValueError:
        raise ItemStatsError(
            format_text(_("Максимальные баллы «{text}» нужно указать числами через запятую, например 1,1,2."),
                text=text)) from None
    if n_tasks is not None and len(values) != n_tasks:
        raise ItemStatsError(format_text(_("Максимальных баллов указано: {given}, а заданий в файле: {tasks}."),
            given=len(values), tasks=n_tasks))
    if np.any(values <= 0):
        raise ItemStatsError(_("Максимальный балл задания должен быть больше нуля."))
    return values


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ItemStatsError(_("Не удалось прочитать файл: он не в кодировке UTF-8 или Windows-1251."))


def read_response_csv(path: str | Path) -> ResponseMatrix:
    """Read a response matrix from CSV: one row per pupil, one column per task.

    The first row names the tasks. A column named `weight`, `вес` or `n` holds how many pupils the
    row stands for; a column named `id`, `код`, `код участника`, `ученик` is a pupil label and ignored.
    A row with `max` / `макс` / `максимум` in the weight or label column gives the task maxima.
    Separator `;` or `,`; UTF-8 or Windows-1251; empty cell = no score.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError:
        raise ItemStatsError(format_text(_("Файл «{name}» не найден или не читается."), name=path.name)) from None
    text = _decode(raw)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise ItemStatsError(format_text(_("Файл «{name}» пуст."), name=path.name))
    if not lines[0].strip():
        raise ItemStatsError(_("Первая строка файла пуста: в ней должны быть названия заданий."))
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    header = [h.strip() for h in rows[0]]
    lowered = [" ".join(h.lower().replace("ё", "е").split()) for h in header]
    weight_col = next((i for i, h in enumerate(lowered) if h in WEIGHT_COLUMNS), None)
    id_col = next((i for i, h in enumerate(lowered) if h in ID_COLUMNS), None)
    label_cols = [i for i in (id_col, weight_col) if i is not None]
    task_cols = [i for i in range(len(header)) if i not in label_cols]
    if not task_cols:
        raise ItemStatsError(format_text(_("В файле «{name}» нет столбцов с заданиями."), name=path.name))
    for i in task_cols:
        if not header[i]:
            raise ItemStatsError(format_text(_("В первой строке столбец {col} без названия задания."), col=i + 1))

    scores, weights, maxima, numbers = [], [], None, []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            raise ItemStatsError(format_text(_("В строке {row} больше значений, чем столбцов в заголовке."), row=number))
        if not any(c.strip() for c in row):
            continue
        cells = [c.strip() for c in row] + [""] * (len(header) - len(row))
        if any(cells[i].lower() in MAX_ROW_LABELS for i in label_cols):
            try:
                values = [_number(cells[i]) for i in task_cols]
            except ValueError:
                values = [None]
            if any(v is None or v <= 0 for v in values):
                raise ItemStatsError(format_text(_(
                    "В строке {row} максимальный балл должен быть положительным числом для каждого "
                    "задания."), row=number))
            maxima = np.array(values)
            continue
        values = []
        for i in task_cols:
            try:
                value = _number(cells[i])
            except ValueError:
                raise ItemStatsError(format_text(_("В строке {row} в столбце «{column}» не число: «{value}»."),
                    row=number, column=header[i], value=cells[i])) from None
            if value is not None and value < 0:
                raise ItemStatsError(format_text(_("В строке {row} в столбце «{column}» отрицательный балл ({value})."),
                    row=number, column=header[i], value=cells[i]))
            values.append(math.nan if value is None else value)
        if weight_col is not None:
            try:
                weight = _number(cells[weight_col])
            except ValueError:
                weight = -1.0
            if weight is None or weight < 0:
                raise ItemStatsError(format_text(_("В строке {row} вес «{value}» должен быть неотрицательным числом."),
                    row=number, value=cells[weight_col]))
            weights.append(weight)
        scores.append(values)
        numbers.append(number)
    if not scores:
        raise ItemStatsError(format_text(_("В файле «{name}» нет строк с баллами."), name=path.name))
    return ResponseMatrix(
        tasks=[header[i] for i in task_cols],
        scores=np.array(scores, dtype=float),
        weights=np.array(weights, dtype=float) if weight_col is not None else None,
        max_scores=maxima,
        row_numbers=numbers,
    )
