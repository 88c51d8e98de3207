"""What may spell a variable name, and the message when something may not.

A name is an identifier (Unicode XID: letters, digits, `_` in any script) or
emoji, NFC-normalized so `café` typed precomposed or decomposed is one
variable. ASCII punctuation is refused even where a *word* may hold it, because
a name that binds one way and cannot be read back another is a silent write:
`a-b=1` would bind a name `$a-b` never reads. Characters that do not show
themselves (whitespace, zero-width, bidi controls) are refused by codepoint.
"""

from __future__ import annotations

import unicodedata

__all__ = ["KEYWORDS", "name_error", "name_problem", "normalize"]

# Words that open or close grammar at command position.
KEYWORDS = frozenset(
    "if then elif else fi for while in do done case esac function "
    "break continue return exit local".split()
)

_INVISIBLE = frozenset(
    "\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u2028\u2029\u202a\u202b\u202c"
    "\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)
_ZWJ = "\u200d"
_VARIATION_SELECTORS = "\ufe0e\ufe0f"


def normalize(name: str) -> str:
    return unicodedata.normalize("NFC", name) if not name.isascii() else name


def _is_emoji(c: str) -> bool:
    # Pictographic blocks only: arrows and math symbols stay out, so `a→b`
    # is not a name.
    o = ord(c)
    return 0x1F000 <= o <= 0x1FAFF or 0x2600 <= o <= 0x27BF or 0x2B00 <= o <= 0x2BFF


def name_error(name: str) -> tuple[str, str] | None:
    """The first character that keeps `name` from being a variable name, and why."""
    if not name:
        return "", "a variable name cannot be empty"
    previous = ""
    for i, c in enumerate(name):
        if c.isascii():
            if c == ".":
                return c, (
                    "variable name contains `.` (U+002E) — write `name[key]` for collection "
                    "access, or quote the word to use it as a literal string"
                )
            if not (c.isalnum() or c == "_") or (i == 0 and c.isdigit()):
                return c, (
                    f"variable name contains `{c}` (U+{ord(c):04X}) — an ASCII name is "
                    "letters, digits, and `_`; quote the word to use it as a literal string"
                )
            previous = c
            continue
        if c.isspace():
            what = "whitespace"
        elif c in _INVISIBLE:
            what = "an invisible character"
        elif c == _ZWJ or c in _VARIATION_SELECTORS:
            if previous and _is_emoji(previous):
                previous = c
                continue
            what = "an invisible character"
        elif _is_emoji(c) or (c.isidentifier() if i == 0 else ("a" + c).isidentifier()):
            previous = c
            continue
        else:
            what = "a character that is not a letter, digit, or emoji"
        return c, (
            f"variable name contains {what} (U+{ord(c):04X}) — quote the word to use "
            "it as a literal string"
        )
    return None


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a variable name (naming the character), or None."""
    problem = name_error(name)
    return None if problem is None else problem[1]
