"""The annual report formats (docs/reporting.md), each a module of data, and which is in force
when."""

from __future__ import annotations

from . import gov2019, gov2021, legacy2014
from .base import FlatFormat, TableFormat

Format = TableFormat | FlatFormat

FORMATS: dict[str, Format] = {
    legacy2014.FORMAT.code: legacy2014.FORMAT,
    gov2019.FORMAT.code: gov2019.FORMAT,
    gov2021.FORMAT.code: gov2021.FORMAT,
}


def get_format(code: str) -> Format:
    try:
        return FORMATS[code]
    except KeyError:
        raise ValueError(
            f"unknown report format {code!r}; choose one of {', '.join(FORMATS)}"
        ) from None


def format_for_year(year: int) -> Format:
    """The format in force for a report year: legacy2014 up to 2018, gov2019 for 2019–2020,
    gov2021 from 2021."""
    for fmt in FORMATS.values():
        first, last = fmt.years
        if (first is None or year >= first) and (last is None or year <= last):
            return fmt
    raise ValueError(f"no report format for {year}")  # unreachable: the ranges cover all years


__all__ = ["FORMATS", "Format", "FlatFormat", "TableFormat", "format_for_year", "get_format"]
