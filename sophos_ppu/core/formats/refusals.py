"""The words the readers refuse a file with, and which failures are the file's."""

from __future__ import annotations

from ..model import ConsumptionFileError

#: Raised inside a reader, these are never the file's fault: they pass.
NOT_OURS = (KeyboardInterrupt, SystemExit, GeneratorExit)
SAVE_AS = "open it in Excel and save it as .xlsx or .csv."


def refuse(message: str) -> ConsumptionFileError:
    return ConsumptionFileError(message)


def what_it_is(description: str, advice: str) -> ConsumptionFileError:
    return refuse(f"The file is {description}, not a spreadsheet: {advice}")


def short(text: str, limit: int = 60) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def all_sheets_hidden(names) -> ConsumptionFileError:
    shown = ", ".join(f"'{short(name)}'" for name in names[:10])
    return ConsumptionFileError(
        f"Every sheet of the workbook is hidden ({shown or 'no sheets'}): "
        "unhide the consumption sheet in Excel and save the file again."
    )


def failure_reason(exc: BaseException) -> str:
    """One line about a reader's failure, without its internals' noise."""
    name = type(exc).__name__
    text = " ".join(str(exc).split())[:200] or name
    if name == "PanicException":
        return (
            "the workbook is damaged (its reader stopped on it: "
            f"{text}); export or download it again."
        )
    if "encrypt" in text.lower() or "password" in text.lower():
        return (
            "it is password-protected (encrypted): remove the password in "
            "Excel and save it again."
        )
    return f"{text} (the file is damaged or not a real .xlsx/.xls/.csv file)."
