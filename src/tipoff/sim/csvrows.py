"""CSV importing with row problems: read a file as text, check rows with masks, report by line.

Importers read every cell as a stripped string, parse whole columns at once and flag bad rows
with boolean masks. A frame's index is the row's position in the file, so the file line of a
row is ``index + 2`` (line 1 is the header). Blank lines are dropped but keep their numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tipoff.domain.players import player_lookup
from tipoff.errors import InputError

_FLAGS = {"0": False, "1": True, "false": False, "true": True}


@dataclass(frozen=True)
class RowProblem:
    """Why a row (or a game) was skipped or needs a look; ``line`` is 1-based, header = 1."""

    file: str
    line: int
    message: str


@dataclass(frozen=True)
class ImportResult:
    """Analytics frames (columns of ``tipoff.domain.analytics.COLUMNS``), problems, rows read."""

    frames: dict[str, pd.DataFrame]
    problems: list[RowProblem]
    rows_read: int


def line_of(label: int) -> int:
    """The file line of the row with index ``label``."""
    return int(label) + 2


def read_text_table(path: Path, required: Iterable[str]) -> pd.DataFrame:
    """The data rows of a CSV file as stripped strings; InputError names the file."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False,
                            encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: cannot be read as CSV ({exc})") from exc
    frame.columns = [str(name).strip() for name in frame.columns]
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing required column(s): {', '.join(missing)}")
    text = frame.fillna("").apply(lambda column: column.str.strip())
    return text[~(text == "").all(axis=1)]


class RowChecks:
    """The failed checks of one file's rows; a row is reported once, with every reason."""

    def __init__(self, file: str, frame: pd.DataFrame) -> None:
        self.file = file
        self._frame = frame
        self._reasons: dict[int, list[str]] = defaultdict(list)

    def flag(self, mask: pd.Series, message: str, column: str | None = None) -> None:
        """Reject the rows where ``mask`` is true; ``column`` adds the offending raw value."""
        for label in mask.index[mask.to_numpy(dtype=bool)]:
            detail = message if column is None else f"{message}: {self._frame.at[label, column]!r}"
            self._reasons[label].append(detail)

    @property
    def rejected(self) -> pd.Index:
        """Index labels of the rejected rows."""
        return pd.Index(sorted(self._reasons), dtype=self._frame.index.dtype)

    def problems(self) -> list[RowProblem]:
        """One problem per rejected row, in file order."""
        return [RowProblem(self.file, line_of(label), "; ".join(self._reasons[label]))
                for label in sorted(self._reasons)]

    def keep(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` without the rejected rows."""
        return frame.drop(index=self.rejected)


def parse_numbers(text: pd.Series) -> pd.Series:
    """Floats, NaN where the text is empty or not a number."""
    return pd.to_numeric(text, errors="coerce").astype(float)


def not_whole(values: pd.Series) -> pd.Series:
    """True where a parsed number is missing, infinite or has a fraction."""
    finite = np.isfinite(values)
    return ~finite | (values.where(finite, 0) % 1 != 0)


def parse_flags(text: pd.Series) -> pd.Series:
    """``0/1/true/false`` → bool-or-NaN (NaN marks text that is none of those)."""
    return text.str.lower().map(_FLAGS)


def parse_dates(text: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` → ``datetime.date`` objects, NaT where the text is not such a date."""
    return pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").dt.date


def empty_frame(columns: Iterable[str]) -> pd.DataFrame:
    """A frame with ``columns`` and no rows."""
    return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})


def player_lookups(names: pd.Series) -> pd.Series:
    """``player_lookup`` of each name, computed once per distinct name."""
    return names.map({name: player_lookup(name) for name in names.unique()})
