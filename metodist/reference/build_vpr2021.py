"""Build the shipped ВПР 2021 assessment specifications.

Usage::

    python -m metodist.reference.build_vpr2021 /work/shared/real-samples/vpr-2021-work-descriptions [OUT_DIR]

Reads, for every work folder ``<grade>/<subject>/``, the tables

* ``ALL.xlsx`` - task -> skill text, ПООП block, level Б/П/В, КЭС code, КТ code,
  maximum score (a task may occupy several rows, one per code pair);
* ``KS.xlsx``  - content element (КЭС) codes and names;
* ``KT.xlsx``  - requirement / skill (КТ) codes and names;

and writes one YAML file per work, ``vpr-2021-<subj>-<grade>.yaml``, into
``metodist/reference/specs/`` (or OUT_DIR).

Everything that is a number in the output comes from a source document:

* per-task maxima come from ALL.xlsx, corrected where the official description
  (the PDF/DOCX in the same folder, section 9 «Система оценивания выполнения
  отдельных заданий и проверочной работы в целом» and the «Обобщённый план
  варианта») says otherwise - see ``MAX_SCORE_FIXES``;
* the maximum primary score and the grade scale were read by hand from the
  same description (table «Рекомендации по переводу первичных баллов в отметки
  по пятибалльной шкале» / 11th grade: «Рекомендуемая шкала перевода суммарного
  балла») - see ``MAX_PRIMARY`` and ``GRADE_SCALES``;
* the answer form (short / extended) is taken from section 4 «Структура
  проверочной работы» (11th grade: section 5 / the plan) - see ``TASK_TYPES``;
  where the description does not state it, ``task_type`` is null.

Works without a description document, or whose figures are incomplete or
contradictory, are written with ``partial: true`` and a ``partial_reason``.

This module must not import Django.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml
from python_calamine import CalamineWorkbook

YEAR = 2021

SUBJECTS = {
    "Русский язык": ("ru", "Русский язык"),
    "Математика": ("ma", "Математика"),
    "Окружающий мир": ("okr", "Окружающий мир"),
    "История": ("is", "История"),
    "Обществознание": ("ob", "Обществознание"),
    "География": ("gg", "География"),
    "Биология": ("bi", "Биология"),
    "Физика": ("fi", "Физика"),
    "Химия": ("hi", "Химия"),
    "Английский язык": ("en", "Английский язык"),
    "Немецкий язык": ("de", "Немецкий язык"),
    "Французский язык": ("fr", "Французский язык"),
}

LEVELS = {"Б": "B", "П": "P", "В": "V"}

# --------------------------------------------------------------------------
# Figures read by hand from the official descriptions (ФГБУ «ФИОКО», 2021),
# file names as in real-samples/vpr-2021-work-descriptions/<grade>/<subject>/.
# --------------------------------------------------------------------------

# Maximum primary score: «Максимальный первичный балл – N» / «Итого» row of the
# table of levels / upper bound of the «5» range (they agree in every file).
MAX_PRIMARY = {
    ("ma", 4): 20,   # VPR_MA-4_Opisanie_2021.pdf, табл. «Итого 12 20 100»
    ("okr", 4): 32,  # VPR_OKR-4_Opisanie_2021.pdf, «Итого 10 32 100»
    ("ru", 4): 38,   # VPR_RU-4_Opisanie_2021.pdf, «Максимальный первичный балл – 38»
    ("bi", 5): 29,   # VPR_BI-5_Opisanie_2021.pdf, «Максимальный первичный балл – 29»
    ("is", 5): 15,   # VPR_IS-5_Opisanie_2021.pdf, «Максимальный первичный балл – 15»
    ("ma", 5): 20,   # VPR_MA-5_Opisanie_2021.pdf, «Итого 14 20 100»
    ("ru", 5): 45,   # VPR_RU-5_Opisanie_2021.pdf, шкала «5» 39–45
    ("bi", 6): 28,   # VPR_BI-6_Opisanie_2021.pdf, «Максимальный балл за выполнение работы – 28»
    ("gg", 6): 37,   # VPR_GG-6_OPISANIE_2021.pdf, «Максимальный первичный балл – 37»
    ("is", 6): 20,   # VPR_IS-6_Opisanie_2021.pdf, «Максимальный первичный балл – 20»
    ("ma", 6): 16,   # VPR_MA-6_Opisanie_2021.pdf, «Максимальный первичный балл – 16»
    ("ob", 6): 23,   # VPR_OB-6_Opisanie_2021.pdf, «Максимальный первичный балл – 23»
    ("ru", 6): 51,   # VPR_RU-6_Opisanie_2021.pdf, «Максимальный первичный балл – 51»
    ("en", 7): 30,   # VPR_IN.YA-7_Opisanie_2021.pdf, «Максимальный первичный балл – 30»
    ("de", 7): 30,   # same description (one for all foreign languages, grade 7)
    ("fr", 7): 30,   # same description (one for all foreign languages, grade 7)
    ("bi", 7): 28,   # VPR_BI-7_Opisanie_2021_.pdf, «Максимальный первичный балл – 28»
    ("gg", 7): 37,   # VPR_GG-7_OPISANIE_2021.pdf, «Максимальный первичный балл – 37»
    ("is", 7): 25,   # VPR_IS-7_Opisanie_2021.pdf, «Максимальный первичный балл – 25»
    ("ma", 7): 19,   # VPR_MA-7_Opisanie_2021.pdf, «Итого 16 19 100»
    ("ob", 7): 23,   # VPR_OB-7_Opisanie_2021.pdf, «Максимальный первичный балл – 23»
    ("ru", 7): 47,   # VPR_RU-7_Opisanie_2021.pdf, «Правильно выполненная работа оценивается 47 баллами»
    ("fi", 7): 18,   # VPR_FI-7_Opisanie_2021.pdf, «Максимальный первичный балл – 18»
    ("bi", 8): 36,   # VPR_BI-8_Opisanie_2021.pdf, «Максимальный первичный балл – 36»
    ("gg", 8): 40,   # VPR_GG-8_OPISANIE_2021.pdf, «Максимальный первичный балл – 40»
    ("is", 8): 24,   # VPR_IS-8_Opisanie_2021.pdf, «Максимальный первичный балл – 24»
    ("ma", 8): 25,   # VPR_MA-8_Opisanie_2021.pdf, «Максимальный первичный балл — 25»
    ("ob", 8): 25,   # VPR_OB-8_Opisanie_2021.pdf, «Максимальный первичный балл – 25»
    ("ru", 8): 51,   # VPR_RU-8_Opisanie_2021.pdf, шкала «5» 45–51
    ("fi", 8): 18,   # VPR_FI-8_Opisanie_2021.pdf, «Максимальный первичный балл – 18»
    ("hi", 8): 36,   # VPR_XI-8_Opisanie_2021.pdf, «Максимальный первичный балл – 36»
    ("bi", 11): 32,  # БИ-11 ВПР 2021 СПЕЦ.pdf, «Правильно выполненная работа оценивается в 32 балла»
    ("gg", 11): 21,  # ГГ-11 ВПР 2021 СПЕЦ.pdf, табл. 4 «5» 18–21
    ("is", 11): 21,  # ИС-11 ВПР 2021 СПЕЦ.pdf, табл. 4 «5» 18–21
    ("fi", 11): 26,  # ФИ-11 ВПР 2021 СПЕЦ.pdf, табл. 4 «5» 21–26
    ("hi", 11): 33,  # ХИ-11 ВПР 2021 СПЕЦ.pdf, табл. 4 «5» 28–33
}

# Grade scale: minimum primary score of marks 3, 4, 5 (mark 2 starts at 0).
# Source: the table «Рекомендации по переводу первичных баллов в отметки по
# пятибалльной шкале» (grades 4-8) / «Таблица 4. Рекомендуемая шкала перевода
# суммарного балла за выполнение ВПР в отметку по пятибалльной шкале» (grade 11)
# of each description; the ranges printed there are quoted in the comments.
GRADE_SCALES = {
    ("ma", 4): {3: 6, 4: 10, 5: 15},    # 0–5, 6–9, 10–14, 15–20
    ("okr", 4): {3: 8, 4: 18, 5: 27},   # 0–7, 8–17, 18–26, 27–32
    ("ru", 4): {3: 14, 4: 24, 5: 33},   # 0–13, 14–23, 24–32, 33–38
    ("bi", 5): {3: 12, 4: 18, 5: 24},   # 0–11, 12–17, 18–23, 24–29
    ("is", 5): {3: 4, 4: 8, 5: 12},     # 0–3, 4–7, 8–11, 12–15
    ("ma", 5): {3: 7, 4: 11, 5: 15},    # 0–6, 7–10, 11–14, 15–20
    ("ru", 5): {3: 18, 4: 29, 5: 39},   # 0–17, 18–28, 29–38, 39–45
    ("bi", 6): {3: 12, 4: 18, 5: 24},   # 0–11, 12–17, 18–23, 24–28
    ("gg", 6): {3: 10, 4: 22, 5: 31},   # 0–9, 10–21, 22–30, 31–37
    ("is", 6): {3: 6, 4: 11, 5: 16},    # 0–5, 6–10, 11–15, 16–20
    ("ma", 6): {3: 6, 4: 10, 5: 14},    # 0–5, 6–9, 10–13, 14–16
    ("ob", 6): {3: 9, 4: 15, 5: 20},    # 0–8, 9–14, 15–19, 20–23
    ("ru", 6): {3: 25, 4: 35, 5: 45},   # 0–24, 25–34, 35–44, 45–51
    ("en", 7): {3: 13, 4: 21, 5: 27},   # 0–12, 13–20, 21–26, 27–30
    ("de", 7): {3: 13, 4: 21, 5: 27},   # same description as en-7
    ("fr", 7): {3: 13, 4: 21, 5: 27},   # same description as en-7
    ("bi", 7): {3: 10, 4: 17, 5: 23},   # 0–9, 10–16, 17–22, 23–28
    ("gg", 7): {3: 11, 4: 26, 5: 33},   # 0–10, 11–25, 26–32, 33–37
    ("is", 7): {3: 7, 4: 13, 5: 19},    # 0–6, 7–12, 13–18, 19–25
    ("ma", 7): {3: 7, 4: 12, 5: 16},    # 0–6, 7–11, 12–15, 16–19
    ("ob", 7): {3: 10, 4: 16, 5: 21},   # 0–9, 10–15, 16–20, 21–23
    ("ru", 7): {3: 22, 4: 32, 5: 42},   # 0–21, 22–31, 32–41, 42–47
    ("fi", 7): {3: 5, 4: 8, 5: 11},     # 0–4, 5–7, 8–10, 11–18
    ("bi", 8): {3: 13, 4: 21, 5: 29},   # 0–12, 13–20, 21–28, 29–36
    # gg-8: the description prints 0–12, 13–26, 27–35, 35–40 (35 in both «4»
    # and «5», PDF and DOCX alike): the threshold of «5» is left out.
    ("gg", 8): {3: 13, 4: 27},
    ("is", 8): {3: 7, 4: 12, 5: 18},    # 0–6, 7–11, 12–17, 18–24
    ("ma", 8): {3: 8, 4: 15, 5: 21},    # 0–7, 8–14, 15–20, 21–25
    ("ob", 8): {3: 11, 4: 17, 5: 22},   # 0–10, 11–16, 17–21, 22–25
    ("ru", 8): {3: 26, 4: 32, 5: 45},   # 0–25, 26–31, 32–44, 45–51
    ("fi", 8): {3: 5, 4: 8, 5: 11},     # 0–4, 5–7, 8–10, 11–18
    ("hi", 8): {3: 10, 4: 19, 5: 28},   # 0–9, 10–18, 19–27, 28–36
    ("bi", 11): {3: 11, 4: 18, 5: 25},  # 0–10, 11–17, 18–24, 25–32
    ("gg", 11): {3: 7, 4: 13, 5: 18},   # 0–6, 7–12, 13–17, 18–21
    ("is", 11): {3: 7, 4: 13, 5: 18},   # 0–6, 7–12, 13–17, 18–21
    ("fi", 11): {3: 9, 4: 16, 5: 21},   # 0–8, 9–15, 16-20, 21–26
    ("hi", 11): {3: 11, 4: 20, 5: 28},  # 0–10, 11–19, 20–27, 28–33
}

GRADE_SCALE_NOTES = {
    ("gg", 8): (
        "Описание печатает шкалу «2» 0–12, «3» 13–26, «4» 27–35, «5» 35–40: балл 35 "
        "попадает и в «4», и в «5»; порог отметки «5» (35 или 36) не установлен."
    ),
}

# Per-task maxima where ALL.xlsx disagrees with the description (the
# description wins).  Each entry: task -> (table value, description value).
MAX_SCORE_FIXES = {
    # VPR_BI-6, п. 9: «задание 10 оценивается 4 баллами: часть 10.1 – 2 балла; часть 10.2 – 2 балла»
    ("bi", 6): {"10.1": (4, 2), "10.2": (4, 2)},
    # VPR_BI-8, п. 9: «часть 10.1 оценивается в 2 балла ...; часть 10.2 оценивается в 1 балл»
    ("bi", 8): {"10.2": (2, 1)},
    # VPR_XI-8, п. 9: «Правильный ответ на каждое из заданий 1.1, 6.2, 6.3 оценивается 1 баллом»
    # (ALL.xlsx gives task 1.1 both 1 and 3 on different rows)
    ("hi", 8): {"1.1": (3, 1)},
    # VPR_GG-7, п. 9: «части 1.3 и 1.4 – по 1 баллу»; «части 8.1 и 8.3 – по 2 балла; часть 8.2 – 1 балл»
    ("gg", 7): {"1.3": (2, 1), "8.1": (1, 2), "8.3": (3, 2)},
    # VPR_IS-8, п. 9 and the plan: «заданий 1, 2, 3, 4, 6, 9 оценивается 1 баллом»
    ("is", 8): {"9": (2, 1)},
    # VPR_MA-8, п. 9: «заданий 1–5, 7, 9–14, 17 оценивается 1 баллом»;
    # «заданий 6, 8, 15, 16, 18, 19 оценивается от 0 до 2 баллов»
    ("ma", 8): {"3": (2, 1), "4": (2, 1), "5": (3, 1), "15": (1, 2)},
    # БИ-11, section 5: «Правильный ответ на каждое из заданий ... 6.1-6.2 ... оценивается 1 баллом»;
    # plan: task 6 max 2
    ("bi", 11): {"6.1": (2, 1), "6.2": (2, 1)},
    # ФИ-11, section 5: «Задания 2, 7, 8 и 13 оцениваются 2 баллами»; plan: task 2 max 2
    ("fi", 11): {"2": (1, 2)},
}

# Known facts the tables cannot be reconciled with (the spec becomes partial).
EXTRA_PARTIAL = {
    ("ru", 7): (
        "Описание (п. 9 и обобщённый план): задание 11 оценивается от 0 до 5 баллов, максимум работы 47; "
        "ALL.xlsx даёт 11.1 – 1 балл и 11.2 – 3 балла (в сумме 4), а как 5 баллов делятся между 11.1 и 11.2, "
        "описание не говорит. Максимумы 11.1/11.2 оставлены по таблице, их сумма 46 ≠ 47."
    ),
    ("gg", 8): "Порог отметки «5» неоднозначен в описании (см. grade_scale_note).",
}

# Answer form from section 4 «Структура проверочной работы» (grade 11: section
# on the system of assessment / the plan's column «Тип задания»).  Patterns:
# "7" = task 7 and its parts (7.1, 7.2, ...); "1-9" = tasks 1..9 and parts.
# Tasks matched by neither list get task_type null (drawing, contour map,
# scheme, oral, or the description does not say).
TASK_TYPES = {
    # «В заданиях 1, 2, 4, 5 (пункт 1), 6 (пункты 1 и 2), 7, 9 (пункты 1 и 2) необходимо записать только
    # ответ. В заданиях 5 (пункт 2) и 11 нужно изобразить ... В задании 10 необходимо заполнить схему.
    # В заданиях 3, 8, 12 требуется записать решение и ответ.»
    ("ma", 4): {"short": ["1", "2", "4", "5.1", "6", "7", "9"], "extended": ["3", "8", "12"]},
    # «Задания 1.2,1.3,6.2, 7.2,9 и 10 требуют развернутых ответов.»
    ("bi", 5): {"short": [], "extended": ["1.2", "1.3", "6.2", "7.2", "9", "10"]},
    # «Ответом к каждому из заданий 1 и 2 является цифра ... Задания 3–4 и 6–8 предполагают развёрнутый ответ.
    # Задание 5 предполагает работу с контурной картой.»
    ("is", 5): {"short": ["1", "2"], "extended": ["3-4", "6-8"]},
    # «В заданиях 1–5, 7, 8, 11, 12 (пункт 1), 13 необходимо записать только ответ. В задании 12 (пункт 2)
    # нужно изобразить ... В заданиях 6, 9, 10, 14 требуется записать решение и ответ.»
    ("ma", 5): {"short": ["1-5", "7", "8", "11", "12.1", "13"], "extended": ["6", "9", "10", "14"]},
    # «Задания 1–9 предполагают запись развернутого ответа, задания 10–12 – краткого ответа»
    ("ru", 5): {"short": ["10-12"], "extended": ["1-9"]},
    # «Задания 1−3.2, 4.1, 4.2, 5.1, 5.2, 6.1, 7, 8.1, 8.2, 10.1 требуют краткого ответа ...
    # Задания 3.3, 4.3, 6.2, 9, 10.2 предполагают развернутый ответ.»
    ("gg", 6): {"short": ["1", "2", "3.1", "3.2", "4.1", "4.2", "5.1", "5.2", "6.1", "7", "8.1", "8.2", "10.1"],
                "extended": ["3.3", "4.3", "6.2", "9", "10.2"]},
    # «Ответами к заданиям 1, 2, 8 и 9 являются ... Задания 3, 4, 6, 7 и 10 предполагают развернутый ответ.
    # Задание 5 предполагает работу с контурной картой.»
    ("is", 6): {"short": ["1", "2", "8", "9"], "extended": ["3", "4", "6", "7", "10"]},
    # «В заданиях 1–8, 10 необходимо записать только ответ. В задании 12 нужно изобразить рисунок ...
    # В заданиях 9, 11, 13 требуется записать решение и ответ.»
    ("ma", 6): {"short": ["1-8", "10"], "extended": ["9", "11", "13"]},
    # «Задания 1–3, 7–12, 14 предполагают запись развернутого ответа, задания 4–6, 13 − краткого ответа»
    ("ru", 6): {"short": ["4-6", "13"], "extended": ["1-3", "7-12", "14"]},
    # «Задания 1−5, 6.2, 6.3, 7.2, 8.1, 8.2 требуют краткого ответа ... Задание 8.3 предполагает развернутый ответ.»
    ("gg", 7): {"short": ["1-5", "6.2", "6.3", "7.2", "8.1", "8.2"], "extended": ["8.3"]},
    # «Ответами к заданиям 1, 2, 4, 6 и 7 являются ... Задания 3, 8–12 требуют развернутого ответа.
    # Задание 5 предполагает заполнение контурной карты.»
    ("is", 7): {"short": ["1", "2", "4", "6", "7"], "extended": ["3", "8-12"]},
    # «В заданиях 1–9, 11 и 13 необходимо записать только ответ. В задании 12 нужно отметить точки ...
    # В задании 15 требуется схематично построить график ... В заданиях 10, 14, 16 требуется записать решение и ответ.»
    ("ma", 7): {"short": ["1-9", "11", "13"], "extended": ["10", "14", "16"]},
    # «Задания 1–2, 6–9, 11, 14 предполагают запись развернутого ответа, задания 3–5, 10, 12, 13 − краткого ответа»
    ("ru", 7): {"short": ["3-5", "10", "12", "13"], "extended": ["1-2", "6-9", "11", "14"]},
    # «Задания 1, 3–6, 8 и 9 требуют краткого ответа. Задания 2, 7, 10, 11 предполагают развернутую запись»
    ("fi", 7): {"short": ["1", "3-6", "8", "9"], "extended": ["2", "7", "10", "11"]},
    # «Задания 1− 5, 6.1, 6.2, 7, 8.1−8.3 требуют краткого ответа ... Задания 6.3 и 8.3 предполагают
    # развернутый ответ.» (8.3 is named in both lists: left null)
    ("gg", 8): {"short": ["1-5", "6.1", "6.2", "7", "8.1", "8.2"], "extended": ["6.3"]},
    # «Ответами к заданиям 1, 2, 3, 4, 6, 8, 9 являются ... Задания 5, 10–13 предполагают развернутый ответ.
    # Задание 7 предполагает заполнение контурной карты.»
    ("is", 8): {"short": ["1-4", "6", "8", "9"], "extended": ["5", "10-13"]},
    # «В заданиях 1–3, 5, 7, 9–14 необходимо записать только ответ. В заданиях 4 и 8 нужно отметить точки ...
    # В задании 6 требуется записать обоснованный ответ. В задании 16 требуется дать ответ в пункте 1 и
    # схематично построить график в пункте 2. В заданиях 15, 17–19 требуется записать решение и ответ.»
    ("ma", 8): {"short": ["1-3", "5", "7", "9-14", "16.1"], "extended": ["15", "17-19"]},
    # «Задания 1–4, 6–9, 15–16 предполагают запись развёрнутого ответа, задания 5, 10−14, 17 − краткого ответа»
    ("ru", 8): {"short": ["5", "10-14", "17"], "extended": ["1-4", "6-9", "15-16"]},
    # «Задания 1, 3-7 и 9 требуют краткого ответа. Задания 2, 8, 10, 11 предполагают развернутую запись»
    ("fi", 8): {"short": ["1", "3-7", "9"], "extended": ["2", "8", "10", "11"]},
    # «Задания 1, 3.1, 4, 6.2, 6.3, 8 и 9 требуют краткого ответа. Остальные задания ... развернутый ответ.»
    ("hi", 8): {"short": ["1", "3.1", "4", "6.2", "6.3", "8", "9"],
                "extended": ["2", "3.2", "5", "6.1", "6.4", "6.5", "7"]},
    # Plan, column «Тип задания»: КО for 1, 3–10, 12; РО for 13, 14; «КО + РО» for 2 and 11 (left null).
    ("bi", 11): {"short": ["1", "3-10", "12"], "extended": ["13", "14"]},
    # «В работе содержится 4 задания с развёрнутым ответом повышенного уровня сложности.
    # Их порядковые номера: 9, 10, 13, 14.» (the other tasks are «с кратким ответом и развернутым ответом»)
    ("hi", 11): {"short": [], "extended": ["9", "10", "13", "14"]},
}

# Works whose folder has no description document, or whose tables belong to
# another work.
NO_DESCRIPTION = {
    ("gg", 10): (
        "В папке нет описания работы (PDF/DOCX): максимумы заданий только по ALL.xlsx (не сверены), "
        "шкала перевода в отметки не указана."
    ),
    ("en", 11): (
        "В папке нет описания работы (PDF/DOCX) и нет KS.xlsx: максимумы заданий только по ALL.xlsx "
        "(не сверены), шкала перевода в отметки не указана, уровень сложности заданий 4–6 в таблице пуст."
    ),
    ("de", 11): (
        "В папке нет описания работы (PDF/DOCX) и нет KS.xlsx: максимумы заданий только по ALL.xlsx "
        "(не сверены), шкала перевода в отметки не указана, уровень сложности заданий 4–6 в таблице пуст."
    ),
    ("fr", 11): (
        "В папке нет описания работы (PDF/DOCX) и нет KS.xlsx: максимумы заданий только по ALL.xlsx "
        "(не сверены), шкала перевода в отметки не указана, уровень сложности заданий 4–6 в таблице пуст."
    ),
}

# Grade-7 German and French: their ALL.xlsx/KT.xlsx are byte-identical copies of
# the grade-11 tables (9 tasks, 32 points) and do not describe the grade-7 work
# (6 tasks, 30 points).  The grade-7 description is one for all foreign
# languages («по ИНОСТРАННОМУ ЯЗЫКУ, 7 класс», found in 7/Английский язык), so
# these works are built from the 7/Английский язык tables and description.
BORROW_TABLES = {
    ("de", 7): ("7/Английский язык", (
        "ALL.xlsx и KT.xlsx в папке 7/Немецкий язык – побайтные копии таблиц 11 класса (9 заданий, 32 балла) "
        "и не описывают работу 7 класса; описания в папке нет. Задания, максимумы и шкала взяты из описания "
        "ВПР 7 класса «по ИНОСТРАННОМУ ЯЗЫКУ» (одно для всех языков, лежит в 7/Английский язык) и таблиц "
        "7/Английский язык; требования (КТ) сформулированы для английского языка."
    )),
    ("fr", 7): ("7/Английский язык", (
        "ALL.xlsx и KT.xlsx в папке 7/Французский язык – побайтные копии таблиц 11 класса (9 заданий, 32 балла) "
        "и не описывают работу 7 класса; описания в папке нет. Задания, максимумы и шкала взяты из описания "
        "ВПР 7 класса «по ИНОСТРАННОМУ ЯЗЫКУ» (одно для всех языков, лежит в 7/Английский язык) и таблиц "
        "7/Английский язык; требования (КТ) сформулированы для английского языка."
    )),
}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def cell_str(value) -> str:
    """A cell as text: 1.0 -> "1", "1.0" -> "1", whitespace collapsed."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer():
            value = int(value)
        else:
            value = repr(value)
    text = re.sub(r"\s+", " ", str(value).replace("\xa0", " ")).strip()
    return text


def norm_code(value) -> str:
    code = cell_str(value).rstrip(".").strip()
    code = re.sub(r"\.0$", "", code) if re.fullmatch(r"\d+\.0", code) else code
    return code


def norm_task(value) -> str:
    """`1K1`/`1К1` -> `1.1`, `5(1)` -> `5.1`, `1.0` -> `1`, `10.2K1` -> `10.2.1`."""
    raw = cell_str(value)
    if re.fullmatch(r"\d+\.0", raw):
        raw = raw[:-2]
    text = re.sub(r"\s*[KkКк]\s*(\d+)", r".\1", raw)
    text = re.sub(r"\s*\((\d+)\)", r".\1", text)
    text = re.sub(r"\s+", "", text)
    return text


def form_label(value) -> str:
    """The task header as an upload form writes it (Cyrillic К)."""
    raw = cell_str(value)
    if re.fullmatch(r"\d+\.0", raw):
        raw = raw[:-2]
    return re.sub(r"[Kkк]", "К", raw).replace(" ", "")


def to_int(value) -> int:
    return int(round(float(cell_str(value).replace(",", "."))))


def read_rows(path: Path) -> list[list]:
    wb = CalamineWorkbook.from_path(str(path))
    return wb.get_sheet_by_name(wb.sheet_names[0]).to_python()


def read_codebook(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    names: dict[str, str] = {}
    for row in read_rows(path)[1:]:
        if not row:
            continue
        code = norm_code(row[0])
        name = cell_str(row[1]) if len(row) > 1 else ""
        if code and code not in names:
            names[code] = name
    return names


def find_columns(header: list) -> dict[str, int]:
    """Locate the columns by their header text (first block only)."""
    cols: dict[str, int] = {}
    for i, h in enumerate(header):
        h = cell_str(h).lower()
        if not h:
            continue
        if h.startswith("№") and "ким" in h:
            cols.setdefault("kim", i)
        elif h == "№":
            cols.setdefault("seq", i)
        elif h.startswith("умения"):
            cols.setdefault("skill", i)
        elif h.startswith("блоки"):
            cols.setdefault("block", i)
        elif h.startswith("уровень"):
            cols.setdefault("level", i)
        elif "кэс" in h:
            cols.setdefault("kes", i)
        elif "кт" in h.split():
            cols.setdefault("kt", i)
        elif h.startswith("максимальный"):
            cols.setdefault("max", i)
    missing = {"kim", "skill", "level", "kes", "kt", "max"} - cols.keys()
    if missing:
        raise ValueError(f"ALL.xlsx: columns not found: {sorted(missing)} in {header}")
    return cols


def code_key(code: str):
    return tuple(int(p) if p.isdigit() else 10**6 for p in re.split(r"[.\s]+", code) if p)


def task_matches(number: str, pattern: str) -> bool:
    m = re.fullmatch(r"(\d+)-(\d+)", pattern)
    if m:
        top = number.split(".")[0]
        return top.isdigit() and int(m.group(1)) <= int(top) <= int(m.group(2))
    return number == pattern or number.startswith(pattern + ".")


def task_type_for(key, number: str):
    spec = TASK_TYPES.get(key)
    if not spec:
        return None
    is_short = any(task_matches(number, p) for p in spec["short"])
    is_ext = any(task_matches(number, p) for p in spec["extended"])
    if is_short and not is_ext:
        return "short"
    if is_ext and not is_short:
        return "extended"
    return None


def read_tasks(folder: Path) -> list[dict]:
    rows = read_rows(folder / "ALL.xlsx")
    cols = find_columns(rows[0])
    tasks: dict[str, dict] = {}
    for row in rows[1:]:
        if len(row) <= cols["max"]:
            continue
        raw = row[cols["kim"]]
        number = norm_task(raw)
        if not number or not re.match(r"\d", number):
            continue
        try:
            max_score = to_int(row[cols["max"]])
        except ValueError:
            continue
        task = tasks.get(number)
        if task is None:
            label = form_label(raw)
            skill = cell_str(row[cols["skill"]])
            block = cell_str(row[cols["block"]]) if "block" in cols else ""
            task = tasks[number] = {
                "number": number,
                "label": label if label != number else "",
                "max_scores": [],
                "levels": [],
                "content_elements": [],
                "skills": [],
                "description": skill or block,
            }
        if max_score not in task["max_scores"]:
            task["max_scores"].append(max_score)
        level = LEVELS.get(cell_str(row[cols["level"]]).upper())
        if level and level not in task["levels"]:
            task["levels"].append(level)
        kes = norm_code(row[cols["kes"]])
        if kes and kes not in task["content_elements"]:
            task["content_elements"].append(kes)
        kt = norm_code(row[cols["kt"]])
        if kt and kt not in task["skills"]:
            task["skills"].append(kt)
    return list(tasks.values())


def find_description(folder: Path) -> Path | None:
    for ext in ("pdf", "docx"):
        found = sorted(folder.glob(f"*.{ext}"))
        if found:
            return found[0]
    return None


def build_work(root: Path, grade: int, subject_dir: str) -> dict:
    subj, subject_name = SUBJECTS[subject_dir]
    key = (subj, grade)
    folder = root / str(grade) / subject_dir
    table_folder = folder
    reasons: list[str] = []
    notes: list[str] = []

    if key in BORROW_TABLES:
        rel, reason = BORROW_TABLES[key]
        table_folder = root / rel
        reasons.append(reason)
    description_doc = find_description(table_folder if key in BORROW_TABLES else folder)
    if key in NO_DESCRIPTION:
        reasons.append(NO_DESCRIPTION[key])
        description_doc = None

    ks = read_codebook(table_folder / "KS.xlsx")
    kt = read_codebook(table_folder / "KT.xlsx")
    raw_tasks = read_tasks(table_folder)

    fixes = MAX_SCORE_FIXES.get(key, {})
    tasks = []
    for t in raw_tasks:
        number = t["number"]
        if number in fixes:
            table_value, pdf_value = fixes[number]
            if table_value not in t["max_scores"]:
                raise ValueError(f"{key} task {number}: expected table max {table_value}, got {t['max_scores']}")
            max_score = pdf_value
        elif len(t["max_scores"]) != 1:
            raise ValueError(f"{key} task {number}: conflicting maxima {t['max_scores']} and no fix")
        else:
            max_score = t["max_scores"][0]
        if len(t["levels"]) > 1:
            raise ValueError(f"{key} task {number}: conflicting levels {t['levels']}")
        task = {"number": number}
        if t["label"]:
            task["label"] = t["label"]
        task.update({
            "max_score": max_score,
            "task_type": task_type_for(key, number),
            "level": t["levels"][0] if t["levels"] else None,
            "content_elements": [c for c in t["content_elements"]],
            "skills": [c for c in t["skills"]],
            "description": t["description"],
        })
        tasks.append(task)

    used_kes = [c for t in tasks for c in t["content_elements"]]
    used_kt = [c for t in tasks for c in t["skills"]]
    content_elements = []
    for code in sorted(dict.fromkeys(used_kes), key=code_key):
        if code not in ks:
            raise ValueError(f"{key}: КЭС {code!r} not in KS.xlsx")
        content_elements.append({"code": code, "name": ks[code]})
    skills = []
    for code in sorted(dict.fromkeys(used_kt), key=code_key):
        if code not in kt:
            raise ValueError(f"{key}: КТ {code!r} not in KT.xlsx")
        skills.append({"code": code, "name": kt[code]})

    total = sum(t["max_score"] for t in tasks)
    if key in MAX_PRIMARY:
        max_primary = MAX_PRIMARY[key]
        if total != max_primary and key not in EXTRA_PARTIAL:
            raise ValueError(f"{key}: sum of task maxima {total} != description max {max_primary}")
    else:
        max_primary = total  # only from the table; the reason says so

    if key in EXTRA_PARTIAL:
        reasons.append(EXTRA_PARTIAL[key])

    grade_scale = {2: 0}
    if key in GRADE_SCALES:
        grade_scale.update(GRADE_SCALES[key])
    elif not reasons:
        raise ValueError(f"{key}: no grade scale and no reason")
    if key in GRADE_SCALE_NOTES:
        notes.append(GRADE_SCALE_NOTES[key])

    rel_folder = f"real-samples/vpr-2021-work-descriptions/{grade}/{subject_dir}"
    if description_doc is not None:
        doc_rel = description_doc.relative_to(root).as_posix()
        source = (
            f"Описание контрольных измерительных материалов для проведения в {YEAR} году проверочной работы, "
            f"ФГБУ «ФИОКО», {YEAR} ({doc_rel}); таблицы ALL.xlsx, KS.xlsx, KT.xlsx "
            f"(real-samples/vpr-2021-work-descriptions/{table_folder.relative_to(root).as_posix()}), "
            f"максимумы сверены с описанием"
        )
    else:
        source = f"Только таблицы ALL.xlsx, KS.xlsx, KT.xlsx ({rel_folder}); описания работы нет"
    if fixes:
        source += "; расхождения таблицы с описанием исправлены по описанию: " + ", ".join(
            f"{n}: {a}→{b}" for n, (a, b) in fixes.items()
        )

    return {
        "code": f"vpr-{YEAR}-{subj}-{grade}",
        "programme": "VPR",
        "subject": subj,
        "subject_name": subject_name,
        "grade": grade,
        "year": YEAR,
        "title": f"ВПР {YEAR}. {subject_name}. {grade} класс",
        "source": source,
        "partial": bool(reasons),
        "partial_reason": " ".join(reasons),
        "max_primary": max_primary,
        "grade_scale": grade_scale,
        "grade_scale_note": " ".join(notes),
        "content_elements": content_elements,
        "skills": skills,
        "tasks": tasks,
    }


def dump(spec: dict, path: Path) -> None:
    path.write_text(
        yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=120),
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(__doc__)
        return 2
    root = Path(argv[0])
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "specs"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for grade_dir in sorted(root.iterdir(), key=lambda p: (len(p.name), p.name)):
        if not grade_dir.is_dir() or not grade_dir.name.isdigit():
            continue
        for subject_dir in sorted(grade_dir.iterdir()):
            if not (subject_dir / "ALL.xlsx").exists():
                continue
            if subject_dir.name not in SUBJECTS:
                print(f"skip {subject_dir}: unknown subject", file=sys.stderr)
                continue
            spec = build_work(root, int(grade_dir.name), subject_dir.name)
            path = out / f"{spec['code']}.yaml"
            dump(spec, path)
            written.append((spec["code"], spec["partial"]))
    for code, partial in written:
        print(f"{code}{'  (partial)' if partial else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
