"""The kernelspec, `kaish install` and the Pygments lexer."""

from __future__ import annotations

import json
import struct
import sys
import zlib
from pathlib import Path

from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Keyword, Name, String

from kaish_kernel.jupyter.install import kernel_json, logo_png, main, write_kernelspec
from kaish_kernel.jupyter.lexer import KaishLexer

REPO = Path(__file__).resolve().parents[2]


def test_kernel_json_runs_this_python_and_names_the_language() -> None:
    spec = kernel_json()
    assert spec["argv"][:3] == [sys.executable, "-m", "kaish_kernel.jupyter"]
    assert "{connection_file}" in spec["argv"]
    assert spec["language"] == "kaish" and spec["interrupt_mode"] == "signal"
    shipped = json.loads((REPO / "kernelspec" / "kaish" / "kernel.json").read_text())
    assert shipped["argv"][1:] == spec["argv"][1:]


def test_logos_are_valid_pngs_of_the_right_size() -> None:
    for size in (32, 64):
        data = logo_png(size)
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", data[16:24])
        assert (width, height) == (size, size)
        length = struct.unpack(">I", data[33:37])[0]
        raw = zlib.decompress(data[41 : 41 + length])
        assert len(raw) == size * (size * 4 + 1)
        assert (REPO / "kernelspec" / "kaish" / f"logo-{size}x{size}.png").read_bytes() == data


def test_write_kernelspec(tmp_path: Path) -> None:
    target = write_kernelspec(tmp_path / "spec", interrupt_mode="message")
    assert json.loads((target / "kernel.json").read_text())["interrupt_mode"] == "message"
    assert (target / "logo-64x64.png").stat().st_size > 100


def test_install_into_a_prefix(tmp_path: Path, capsys: object) -> None:
    assert main(["--prefix", str(tmp_path)]) == 0
    spec = tmp_path / "share" / "jupyter" / "kernels" / "kaish" / "kernel.json"
    assert json.loads(spec.read_text())["display_name"] == "kaish"


def test_install_rejects_two_locations(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(SystemExit):
        main(["--user", "--prefix", str(tmp_path)])


def test_the_lexer_is_registered_by_name_and_extension() -> None:
    assert isinstance(get_lexer_by_name("kaish"), KaishLexer)
    assert isinstance(get_lexer_for_filename("job.kai"), KaishLexer)


def test_the_lexer_colours_a_script_without_errors() -> None:
    source = (
        "# comment\nX=5\nfor f in $(glob '*.txt'); do\n  grep -i --count \"${X} $f\" $f > out &\n"
        "done\nwait %1 && echo $((X * 2)) | jq '.[]'\nif [[ $X -gt 1 ]]; then echo {a: [1, 2]}; fi\n"
    )
    tokens = list(KaishLexer().get_tokens(source))
    assert not [t for t in tokens if t[0] is Error]
    assert "".join(text for _, text in tokens) == source
    kinds = {text: kind for kind, text in tokens}
    assert kinds["for"] is Keyword and kinds["grep"] is Name.Builtin
    assert kinds["--count"] is Name.Attribute and kinds["'*.txt'"] is String.Single
    assert kinds["%1"] is Name.Label


def test_the_lexer_knows_every_builtin_by_name() -> None:
    from kaish_kernel.jupyter.lexer import BUILTINS
    from kaish_kernel.tools.registry import default_registry

    named = {n for n in default_registry().names() if n[0].isalpha()}
    assert named - set(BUILTINS) == set(), "add these to the lexer's BUILTINS"
