"""Columns as the models' inputs. Numbers stay numbers (NaN where missing). Categories become
native categorical features of the gradient-boosting model when there are at most
`MAX_CATEGORIES` of them, and otherwise the share of rows holding the value (an id or free-text
column then carries little, and a rare value still stands out)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from custos.dataintegrity.table import Codes, Floats, Table

MAX_CATEGORIES = 255  # HistGradientBoostingClassifier's limit for a categorical feature
Mask = npt.NDArray[np.bool_]


def _frequency(codes: Codes) -> Floats:
    """Each row's value as the share of rows holding it (NaN where missing: code -1)."""
    known = codes >= 0
    counts = np.bincount(codes[known]).astype(np.float64) if known.any() else np.zeros(0)
    share = np.full(codes.size, np.nan)
    share[known] = counts[codes[known]] / codes.size
    return share


def for_model(table: Table) -> tuple[Floats, Mask]:
    """(rows x features, which features are categorical) for the gradient-boosting model."""
    columns: list[Floats] = []
    categorical: list[bool] = []
    for column in table.features:
        if column.numeric:
            columns.append(column.values)
            categorical.append(False)
        elif len(column.categories) <= MAX_CATEGORIES:
            codes = column.codes.astype(np.float64)
            codes[column.codes < 0] = np.nan
            columns.append(codes)
            categorical.append(True)
        else:
            columns.append(_frequency(column.codes))
            categorical.append(False)
    if not columns:
        return np.zeros((table.rows, 0)), np.zeros(0, bool)
    return np.column_stack(columns), np.array(categorical, bool)


def _rarity(codes: Codes) -> Floats:
    """How much rarer each row's value is than the column's typical value, in powers of ten
    (0 for values about as common as the median one, -1 for ten times rarer, ...). A column of
    evenly spread values is then constant and the forest spends no splits on it."""
    share = _frequency(codes)
    missing = np.isnan(share)
    share[missing] = missing.mean()  # a missing value is as rare as missing values are
    typical = float(np.median(share))
    rarity: Floats = np.minimum(np.round(np.log10(share / typical)), 0.0)
    return rarity


def for_outliers(table: Table) -> Floats:
    """rows x features for the isolation forest: numbers, missing ones at the median, and each
    category column of at most MAX_CATEGORIES values as the rarity of its value (`_rarity`;
    values equal after normalising are one value, so `RED` beside `red` is no outlier).
    Columns of more values (ids, free text) are left out."""
    columns: list[Floats] = []
    for column in table.features:
        if column.numeric:
            values = column.values.copy()
            missing = np.isnan(values)
            if missing.all():
                continue
            values[missing] = np.nanmedian(values)
            columns.append(values)
        elif 0 < len(column.categories) <= MAX_CATEGORIES:
            columns.append(_rarity(np.where(column.codes >= 0, column.near, -1)))
    if not columns:
        return np.zeros((table.rows, 0))
    return np.column_stack(columns)
