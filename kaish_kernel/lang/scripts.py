"""W007: a variable name spelled in two scripts (`PАTH` with a Cyrillic `А`).

Such a name is legal and binds, but it is not the variable it looks like, and
nothing else would say so: the exit status is 0 and the output looks right.
So kaish warns, at every place a name is written down (an assignment, a
`for` head, `export`, `env`, `read`, `unset`, `push`, `scatter --as`).

The rule is Unicode UTS #39's "highly restrictive" level over each
character's script (Common and Inherited characters — digits, `_`, emoji,
combining marks — belong to every script):

    one script covers the name                  quiet   café  переменная  名前
    Latin + Han/Hiragana/Katakana (Japanese),
      Latin + Han/Bopomofo, Latin + Han/Hangul  quiet   変数x
    anything else                               W007    PАTH  Ωmega

Script and look-alike data come from `confusable_homoglyphs` (Unicode's
Scripts.txt and confusables.txt), loaded only for a non-ASCII name: an ASCII
name is Latin and Common alone and is never judged.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import cache
from typing import Any

from kaish_kernel.errors import ErrorCode, KaishWarning
from kaish_kernel.records import record

__all__ = ["MixedScript", "mixed_script", "name_warning"]

_NEUTRAL = frozenset({"COMMON", "INHERITED", "UNKNOWN", ""})
# The CJK writing systems, as UTS #39's augmented script sets: a Han
# character belongs to Japanese, Chinese-with-Bopomofo and Korean at once.
_JAPANESE, _BOPOMOFO_HAN, _KOREAN = "+Jpan", "+Hanb", "+Kore"
_AUGMENTED: dict[str, frozenset[str]] = {
    "HAN": frozenset({"HAN", _JAPANESE, _BOPOMOFO_HAN, _KOREAN}),
    "HIRAGANA": frozenset({"HIRAGANA", _JAPANESE}),
    "KATAKANA": frozenset({"KATAKANA", _JAPANESE}),
    "HANGUL": frozenset({"HANGUL", _KOREAN}),
    "BOPOMOFO": frozenset({"BOPOMOFO", _BOPOMOFO_HAN}),
}
_WRITING_SYSTEMS = frozenset({_JAPANESE, _BOPOMOFO_HAN, _KOREAN})


@record
class MixedScript:
    """A name in two scripts: the character that stands out, and what it reads as."""

    name: str
    char: str  # the first character not in the name's main script
    script: str  # the main script ("Latin")
    other_script: str  # `char`'s script ("Cyrillic")
    reads_as: str  # the ASCII spelling it looks like, or "" when there is none

    def message(self) -> str:
        reading = f", and reads as `{self.reads_as}`" if self.reads_as else ""
        return (
            f"variable name `{self.name}` mixes {self.script} and {self.other_script}{reading}:"
            f" `{self.char}` (U+{ord(self.char):04X}) is {self.other_script},"
            " so this names a different variable"
        )

    def hint(self) -> str:
        example = f", e.g. `{self.reads_as}`" if self.reads_as else ""
        return f"spell the name in one script{example}"


@cache
def _data() -> tuple[Any, Any]:
    from confusable_homoglyphs import categories, confusables

    return categories, confusables


def _script(char: str) -> str:
    categories, _ = _data()
    try:
        return str(categories.alias(char))
    except (KeyError, ValueError, TypeError):
        return ""


def _title(script: str) -> str:
    return "_".join(part.capitalize() for part in script.split("_"))


def _latin_look_alike(char: str) -> str | None:
    """The ASCII character `char` is confusable with, if it has one."""
    _, confusables = _data()
    found = confusables.is_confusable(char, preferred_aliases=["latin"], greedy=True)
    for entry in found or ():
        for glyph in entry.get("homoglyphs", ()):
            text = glyph.get("c", "")
            if len(text) == 1 and text.isascii() and (text.isalnum() or text == "_"):
                return str(text)
    return None


def _reading(name: str, main: str) -> str:
    """The name with every look-alike from another script replaced by its ASCII twin."""
    out = []
    for char in unicodedata.normalize("NFD", name):
        script = _script(char)
        if char.isascii() or script in _NEUTRAL or script == main == "LATIN":
            out.append(char)
            continue
        twin = _latin_look_alike(char)
        if twin is None:
            return ""
        out.append(twin)
    text = unicodedata.normalize("NFC", "".join(out))
    return text if text.isascii() and text != name else ""


def mixed_script(name: str) -> MixedScript | None:
    """The W007 finding for `name`, or None when one writing system spells it."""
    if name.isascii():
        return None
    spelled = [(c, s) for c in name if (s := _script(c)) not in _NEUTRAL]
    if not spelled:
        return None
    common: frozenset[str] | None = None
    beside_latin: frozenset[str] | None = None  # the sets of the non-Latin characters
    for _, script in spelled:
        sets = _AUGMENTED.get(script, frozenset({script}))
        common = sets if common is None else common & sets
        if "LATIN" not in sets:
            beside_latin = sets if beside_latin is None else beside_latin & sets
    if common:
        return None
    if beside_latin and beside_latin & _WRITING_SYSTEMS:
        return None
    # Blame the character that stands out, not whichever broke the intersection:
    # the main script is the most frequent one (the first of equals).
    main, best = "", 0
    for script, count in Counter(script for _, script in spelled).items():
        if count > best:
            main, best = script, count
    char, other = next((c, s) for c, s in spelled if s != main)
    return MixedScript(name, char, _title(main), _title(other), _reading(name, main))


def name_warning(name: str, source: str, offset: int) -> KaishWarning | None:
    """W007 for a name written at `offset` in `source`, or None."""
    found = mixed_script(name)
    if found is None:
        return None
    return KaishWarning(found.message(), source, offset, ErrorCode.MIXED_SCRIPT_NAME, found.hint())
