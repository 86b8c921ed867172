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


def _csv(tmp_path, rows, name="usage.csv"):
    path = tmp_path / name
    lines = [",".join(HEADER_7)] + [",".join(map(str, row)) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


HEADER_7 = [
    "End User Identifier",
    "Start Date",
    "End Date",
    "Product Description",
    "Total Quantity",
    "Unit MSRP",
    "Unit Price",
]


def _row(end_user="EU-1", msrp="4.5", product="X"):
    return [end_user, "2025-01-01", "2025-01-31", product, 2, msrp, 3.6]


def test_internal_error_is_one_line_and_exit_3(sophos_file, capsys, monkeypatch):
    import sophos_ppu.core.cli as cli

    def broken(result):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "summarize", broken)
    path = sophos_file("csv")

    assert main([str(path)]) == 3

    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err
        == f"sophos-ppu-check: {path}: internal error: RuntimeError: boom\n"
    )


def test_wrong_command_line_exits_4(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--max-rows", "0", "file.csv"])
    assert caught.value.code == 4
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 4
    assert "usage: sophos-ppu-check" in capsys.readouterr().err


def test_help_documents_the_exit_status(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "3 internal error" in out and "2 the file cannot be used" in out


def test_cells_are_cut_and_control_characters_escaped(tmp_path, capsys):
    rows = [
        _row("EU-1", msrp="\x1b[31mRED\x1b[0m"),
        _row("EU-2", msrp="y" * 500),
        _row("EU-3", msrp="zz\u202e"),
    ]
    path = _csv(tmp_path, rows)

    assert main([str(path)]) == 1

    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[31mRED\\x1b[0m" in out
    assert "zz\\u202e" in out
    assert "y" * 59 + "…" in out and "y" * 60 not in out
    assert max(map(len, out.splitlines())) < 200


def test_long_lists_are_summarised(tmp_path, capsys):
    rows = [_row(f"EU-{n}", msrp="bad") for n in range(120)]
    path = _csv(tmp_path, rows)

    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "… and 70 more issues" in out
    assert len(out.splitlines()) < 100

    assert main([str(path), "--max-listed", "0"]) == 1
    out = capsys.readouterr().out
    assert "more issues" not in out and "  121  Unit MSRP" in out

    assert main([str(path), "--max-listed", "5"]) == 1
    assert "… and 115 more issues" in capsys.readouterr().out


def test_runs_of_blank_rows_are_one_line(tmp_path, capsys):
    rows = [_row("EU-1"), *[[""] * 7] * 300, _row("EU-2"), [""] * 7, _row("EU-3")]
    path = _csv(tmp_path, rows)

    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "  rows 3–302: blank row" in out
    assert "  row 304: blank row" in out


def test_exact_repeats_are_listed_apart(tmp_path, capsys):
    path = _csv(tmp_path, [_row(), _row(), _row(msrp="4.6")])

    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    repeats = out.split("Rows repeating an earlier row exactly")[1]
    assert "  row 3 repeats row 2 exactly" in repeats
    same = out.split("Same consumption on several rows:")[1]
    assert "  row 4 repeats row 2" in same and "row 3 repeats" not in same


def test_json_is_alone_on_stdout_and_valid_for_any_file(tmp_path):
    rows = [_row("EU-\x1b[2J\x00", msrp="9e999999"), _row("EU-2")]
    path = _csv(tmp_path, rows)
    completed = subprocess.run(
        [sys.executable, "-m", "sophos_ppu.core.cli", str(path), "--json"],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    assert completed.returncode == 1
    data = json.loads(completed.stdout.decode("utf-8"))
    assert data["issues"][0]["reason"] == "number out of range"
    assert data["repeats"] == []
    assert completed.stderr == b""


def test_closed_pipe_is_not_an_error(tmp_path):
    path = _csv(tmp_path, [_row(f"EU-{n}", msrp="bad") for n in range(3000)])
    process = subprocess.Popen(
        [sys.executable, "-m", "sophos_ppu.core.cli", str(path), "--max-listed", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = process.stdout.readline()
    process.stdout.close()  # as `| head -1` does
    stderr = process.stderr.read()
    process.wait(timeout=60)
    assert first.startswith(b"File: ")
    assert process.returncode == 1
    assert stderr == b""


def test_unusable_file_message_is_one_safe_line(tmp_path, capsys):
    path = tmp_path / "usage.xlsx"
    path.write_bytes(b"%PDF-1.7\n")
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a PDF document" in err


def test_limits_from_the_command_line(tmp_path, capsys):
    path = _csv(tmp_path, [_row(f"EU-{n}") for n in range(20)])
    assert main([str(path), "--max-rows", "10"]) == 2
    assert "more than 10 rows" in capsys.readouterr().err
    assert main([str(path), "--max-file-bytes", "100"]) == 2
    assert "larger than 100 bytes" in capsys.readouterr().err
    assert main([str(path), "--max-cell-chars", "2"]) == 1
    assert "text longer than 2 characters" in capsys.readouterr().out
