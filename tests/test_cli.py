"""The offline checker, called in-process: output and exit status."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SOPHOS_HEADER, sophos_row, sophos_rows

from sophos_ppu.core.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def sophos_file(write_file):
    """The realistic 22-column workbook: title rows, header on row 4."""

    def make(fmt="xlsx", rows=None, header=SOPHOS_HEADER):
        rows = sophos_rows(header) + (rows or [])
        return write_file(fmt, rows, **({"merge": "A1:V1"} if fmt == "xlsx" else {}))

    return make


def test_valid_file_exits_0_with_totals(sophos_file, capsys):
    path = sophos_file(rows=[[], ["Total", *[None] * 16, 40, 40, None, None, None]])

    assert main([str(path)]) == 0

    out = capsys.readouterr().out
    assert "header on row 4" in out
    assert "Rows read: 4" in out
    assert "Valid rows: 4" in out
    assert "Rows with issues: 0" in out
    assert "Skipped rows: 2" in out
    assert "row 9: blank row" in out
    assert "row 10: totals row" in out
    assert "Periods: 2025-01-01 to 2025-01-31" in out
    assert "Currencies: EUR" in out
    mueller = next(line for line in out.splitlines() if "1b2c3d4e-0001" in line)
    assert mueller.split()[-4:] == ["2", "27", "136.5", "109.2"]
    overall = out.split("Overall:")[1].splitlines()[2].split()
    assert overall == ["EUR", "4", "40", "181.8", "145.41"]


@pytest.mark.parametrize("fmt", ["xls", "csv"])
def test_other_formats_give_the_same_totals(sophos_file, capsys, fmt):
    assert main([str(sophos_file(fmt)), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"][0]["msrp_amount"] == "181.8"
    assert data["totals"][0]["cost_amount"] == "145.41"


def test_rows_with_issues_exit_1_and_are_listed(sophos_file, capsys):
    bad = sophos_row(
        "7c7c-0004", "Praxis Dr. Kurz", "CIXA1CSAA", "Intercept X", 5, "abc", 3.6
    )
    path = sophos_file(rows=[bad])

    assert main([str(path)]) == 1

    out = capsys.readouterr().out
    assert "Rows with issues: 1" in out
    assert "Valid rows: 4" in out
    issue_line = next(line for line in out.splitlines() if "not a number" in line)
    assert issue_line.split() == ["9", "Unit", "MSRP", "abc", "not", "a", "number"]


def test_json_lists_summary_and_issues(sophos_file, capsys):
    bad = sophos_row(
        "7c7c-0004", "Praxis Dr. Kurz", "CIXA1CSAA", "Intercept X", 5, 4.5, ""
    )
    path = sophos_file(rows=[bad])

    assert main([str(path), "--json"]) == 1

    data = json.loads(capsys.readouterr().out)
    assert data["rows_read"] == 5
    assert data["valid_rows"] == 4
    assert data["issues"] == [
        {
            "row_number": 9,
            "column": "Unit Price",
            "value": "",
            "reason": "required value is empty",
        }
    ]
    assert data["totals"][0]["cost_amount"] == "145.41"


def test_missing_unit_msrp_column_exits_2_naming_it(sophos_file, capsys):
    header = ["Notes" if h == "Unit MSRP" else h for h in SOPHOS_HEADER]
    path = sophos_file(header=header)

    assert main([str(path)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Required column(s) missing: Unit MSRP" in captured.err


def test_missing_file_exits_2(tmp_path, capsys):
    assert main([str(tmp_path / "absent.xlsx")]) == 2
    assert "File not found" in capsys.readouterr().err


def test_runs_as_a_module(sophos_file):
    completed = subprocess.run(
        [sys.executable, "-m", "sophos_ppu.core.cli", str(sophos_file("csv"))],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Valid rows: 4" in completed.stdout


def test_currency_option_picks_one_price_currency(write_file, capsys):
    header = ["customerId", "startDate", "endDate", "productName", "quantity"]
    header += ["unitMsrp.EUR", "unitPrice.EUR", "unitMsrp.USD", "unitPrice.USD"]
    row = ["c-1", "2025-01-01", "2025-01-31", "Intercept X", 10, 4.5, 3.6, 5, 4]
    path = write_file("csv", [header, row])

    assert main([str(path)]) == 2
    assert "several currencies (EUR, USD)" in capsys.readouterr().err

    assert main([str(path), "--currency", "USD", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"] == [
        {
            "currency": "USD",
            "rows": 1,
            "quantity": "10",
            "msrp_amount": "50",
            "cost_amount": "40",
        }
    ]
