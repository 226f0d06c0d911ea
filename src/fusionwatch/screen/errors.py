"""Problems with a screening input, each naming the file, the row and the column."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Where:
    file: str
    row: int | None
    column: str | None

    def __str__(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)


class ScreenInputError(ValueError):
    """The input cannot be screened as given; nothing was written."""

    def __init__(self, where: Where, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where, self.message = where, message
