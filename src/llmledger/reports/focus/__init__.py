"""FOCUS export: the ledger as a FinOps Open Cost and Usage Specification dataset.

rows = focus_rows(store, start, end, Account("acme", "Acme"))
write_csv(rows, out)  # or write_parquet(rows, path)
validate_file(path)   # [] when every column follows the specification
"""

from __future__ import annotations

from llmledger.reports.focus.columns import COLUMNS, FOCUS_VERSION, NAMES
from llmledger.reports.focus.rows import Account, FocusRow, focus_rows
from llmledger.reports.focus.validate import Problem, validate_file
from llmledger.reports.focus.write import write_csv, write_parquet

__all__ = [
    "COLUMNS",
    "FOCUS_VERSION",
    "NAMES",
    "Account",
    "FocusRow",
    "Problem",
    "focus_rows",
    "validate_file",
    "write_csv",
    "write_parquet",
]
