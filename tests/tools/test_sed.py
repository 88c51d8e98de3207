"""sed: data-driven cases (script, input, output, status), streaming, files, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kaish_kernel.scheduler.stage import CaptureOutput, InputStream
from kaish_kernel.tools.base import ToolContext
from kaish_kernel.tools.builtins.sed import Sed
from kaish_kernel.tools.schema import bind
from tests.tool_harness import ErrorBuffer, FakeShell, run_tool, word_to_raw

# (id, words, stdin, expected stdout, expected status)
CASES = [
    # substitution
    ("subst", ["s/hello/world/"], "hello\n", "world\n", 0),
    ("subst-first-only", ["s/a/X/"], "aaa\n", "Xaa\n", 0),
    ("subst-global", ["s/-/+/g"], "a-b-c\n", "a+b+c\n", 0),
    ("subst-nth", ["s/a/X/2"], "aaa\n", "aXa\n", 0),
    ("subst-nth-onward", ["s/a/X/2g"], "aaaa\n", "aXXX\n", 0),
    ("subst-nth-missing", ["s/a/X/5"], "aaa\n", "aaa\n", 0),
    ("subst-icase", ["s/hello/hi/gi"], "Hello HELLO hello\n", "hi hi hi\n", 0),
    ("subst-icase-upper-I", ["s/x/y/I"], "X\n", "y\n", 0),
    ("subst-ampersand", ["s/hello/[&]/"], "hello world\n", "[hello] world\n", 0),
    ("subst-escaped-ampersand", ["s/a/\\&/"], "a\n", "&\n", 0),
    ("subst-groups-ere", ["-E", "s/(\\w+) (\\w+)/\\2 \\1/"], "John Smith\n", "Smith John\n", 0),
    ("subst-groups-default", ["s/(\\w+) (\\w+)/\\2, \\1/"], "John Smith\n", "Smith, John\n", 0),
    ("subst-bre-groups", ["s/\\(a\\)\\(b\\)/\\2\\1/"], "ab\n", "ba\n", 0),
    ("subst-bre-alternation", ["s/cat\\|dog/X/"], "cat\ndog\nfish\n", "X\nX\nfish\n", 0),
    ("subst-bre-alternation-g", ["s/cat\\|dog/X/g"], "cat dog\n", "X X\n", 0),
    ("subst-bre-interval", ["s/a\\{2\\}/X/"], "aa\n", "X\n", 0),
    ("subst-bre-interval-open", ["s/a\\{2,\\}/X/"], "aaaa\n", "X\n", 0),
    ("subst-bre-plus", ["s/a\\+/X/"], "aaab\n", "Xb\n", 0),
    ("subst-ere-interval", ["s/a{2}/X/"], "aa\n", "X\n", 0),
    ("subst-strict-literal-pipe", ["-E", "s/cat\\|dog/X/"], "cat|dog\ncat\n", "X\ncat\n", 0),
    ("subst-strict-r", ["-r", "s/cat\\|dog/X/"], "cat|dog\ncat\n", "X\ncat\n", 0),
    ("subst-strict-literal-paren", ["-E", "s/\\(x\\)/Y/"], "(x)\n", "Y\n", 0),
    ("subst-escaped-backslash-pipe", ["s/a\\\\|b/X/"], "a\\ b c\n", "X b c\n", 0),
    ("subst-delimiter", ["s|/usr|/opt|g"], "/usr/bin:/usr/lib\n", "/opt/bin:/opt/lib\n", 0),
    ("subst-escaped-delimiter", ["s/a\\/b/X/"], "a/b\n", "X\n", 0),
    ("subst-newline", ["s/ /\\n/"], "hello world\n", "hello\nworld\n", 0),
    ("subst-tab", ["s/ /\\t/"], "a b\n", "a\tb\n", 0),
    ("subst-backslash", ["s/hello/a\\\\b/"], "hello\n", "a\\b\n", 0),
    ("subst-empty-replacement", ["s/hello //"], "hello world\n", "world\n", 0),
    ("subst-empty-matches", ["s/a*/-/g"], "baac\n", "-b-c-\n", 0),
    ("subst-empty-pattern-everywhere", ["s/x*/-/g"], "abc\n", "-a-b-c-\n", 0),
    ("subst-anchor-end", ["s/$/!/"], "a\nb\n", "a!\nb!\n", 0),
    ("subst-anchor-start", ["s/^/> /"], "a\n", "> a\n", 0),
    ("subst-semicolon-in-pattern", ["s/a;b/X/"], "a;b\n", "X\n", 0),
    ("subst-case-upper", ["s/\\w\\+/\\U&/"], "hello world\n", "HELLO world\n", 0),
    ("subst-case-first", ["s/.*/\\u&/"], "hello\n", "Hello\n", 0),
    ("subst-case-end", ["-E", "s/(a)(b)/\\U\\1\\E\\2/"], "ab\n", "Ab\n", 0),
    ("subst-unicode", ["s/世界/kaish/"], "こんにちは 世界\n", "こんにちは kaish\n", 0),
    ("subst-posix-class", ["s/[[:digit:]]\\+/N/g"], "a1b22\n", "aNbN\n", 0),
    ("subst-p-quiet", ["-n", "s/hello/hi/p"], "hello world\nfoo bar\n", "hi world\n", 0),
    ("subst-empty-regex-reuses", ["/foo/s//bar/"], "a foo b\nfoo\nx\n", "a bar b\nbar\nx\n", 0),
    ("subst-multiline-flag", ["s/^/>/Mg"], "a\n", ">a\n", 0),
    # commands
    ("delete-line", ["2d"], "a\nb\nc\n", "a\nc\n", 0),
    ("delete-last", ["$d"], "a\nb\nc\n", "a\nb\n", 0),
    ("delete-regex", ["/delete/d"], "keep\ndelete this\nkeep\n", "keep\nkeep\n", 0),
    ("print-quiet", ["-n", "2p"], "a\nb\nc\n", "b\n", 0),
    ("print-quiet-long", ["--quiet", "/b/p"], "a\nb\n", "b\n", 0),
    ("print-duplicates", ["/b/p"], "a\nb\n", "a\nb\nb\n", 0),
    ("quit", ["2q"], "1\n2\n3\n4\n", "1\n2\n", 0),
    ("line-count", ["-n", "$="], "a\nb\nc\n", "3\n", 0),
    ("line-number-each", ["/b/="], "a\nb\n", "a\n2\nb\n", 0),
    ("quit-exit-code", ["q5"], "1\n2\n", "1\n", 5),
    ("quit-quiet", ["-n", "2q"], "1\n2\n3\n", "", 0),
    ("append", ["/B/a ---"], "A\nB\nC\n", "A\nB\n---\nC\n", 0),
    ("append-backslash", ["/B/a\\---"], "A\nB\n", "A\nB\n---\n", 0),
    ("append-glued", ["1aX"], "A\n", "A\nX\n", 0),
    ("append-classic-newline", ["1a\\\n  text"], "A\n", "A\n  text\n", 0),
    ("append-quiet", ["-n", "/B/a ---"], "A\nB\nC\n", "---\n", 0),
    ("append-after-delete", ["-e", "1a foo", "-e", "1d"], "1\n2\n", "foo\n2\n", 0),
    ("insert", ["1i #!/bin/sh"], "body\n", "#!/bin/sh\nbody\n", 0),
    ("insert-each", ["i >"], "a\nb\n", ">\na\n>\nb\n", 0),
    ("change-line", ["/B/c NEW"], "A\nB\nC\n", "A\nNEW\nC\n", 0),
    ("change-range-once", ["2,3c NEW"], "A\nB\nC\nD\n", "A\nNEW\nD\n", 0),
    ("change-range-unclosed", ["2,/NOPE/c NEW"], "a\nb\nc\nd\n", "a\nNEW\n", 0),
    ("change-range-past-eof", ["2,99c NEW"], "a\nb\nc\n", "a\nNEW\n", 0),
    ("change-single-line-range", ["2,2c NEW"], "a\nb\nc\n", "a\nNEW\nc\n", 0),
    ("change-negated-each", ["2!c X"], "a\nb\nc\n", "X\nb\nX\n", 0),
    ("text-swallows-semicolon", ["1a x; y"], "A\n", "A\nx; y\n", 0),
    ("text-ends-at-newline", ["1a x\ns/A/B/"], "A\n", "B\nx\n", 0),
    ("transliterate", ["y/abc/xyz/"], "cabbage\n", "zxyyxge\n", 0),
    ("transliterate-delim", ["y,ab,AB,"], "abc\n", "ABc\n", 0),
    # addresses
    ("line-address-subst", ["2s/line/LINE/"], "line 1\nline 2\nline 3\n", "line 1\nLINE 2\nline 3\n", 0),
    ("range-lines", ["2,3d"], "1\n2\n3\n4\n", "1\n4\n", 0),
    ("range-to-last", ["3,$d"], "1\n2\n3\n4\n", "1\n2\n", 0),
    ("range-single", ["2,2d"], "a\nb\nc\n", "a\nc\n", 0),
    ("range-descending", ["3,1d"], "a\nb\nc\nd\n", "a\nb\nd\n", 0),
    ("range-regex", ["/START/,/END/d"], "before\nSTART\nmiddle\nEND\nafter\n", "before\nafter\n", 0),
    ("range-regex-reopens", ["-n", "/b/,/c/p"], "a\nb\nx\nc\nd\nb\nc\n", "b\nx\nc\nb\nc\n", 0),
    ("range-regex-end-only-later", ["-n", "/x/,/x/p"], "x\ny\nx\nz\n", "x\ny\nx\n", 0),
    ("range-line-to-regex", ["-n", "2,/c/p"], "a\nb\nc\nd\n", "b\nc\n", 0),
    ("range-spaces", ["2 , 3 d"], "1\n2\n3\n4\n", "1\n4\n", 0),
    ("last-line-subst", ["$s/line/LAST/"], "line 1\nline 2\nline 3", "line 1\nline 2\nLAST 3\n", 0),
    ("negate", ["/a/!d"], "a\nb\nab\n", "a\nab\n", 0),
    ("negate-range", ["2,3!d"], "1\n2\n3\n4\n", "2\n3\n", 0),
    ("regex-address-icase", ["/abc/Id"], "ABC\nx\n", "x\n", 0),
    ("regex-address-custom-delim", ["\\%/usr%d"], "/usr/bin\n/opt\n", "/opt\n", 0),
    ("regex-address-bre", ["/cat\\|dog/d"], "cat\nfish\ndog\n", "fish\n", 0),
    ("regex-address-sees-edited-space", ["-e", "s/a/b/", "-e", "/b/d"], "a\nc\n", "c\n", 0),
    # chaining
    ("semicolon-chain", ["s/a/X/; s/c/Z/"], "abc\n", "XbZ\n", 0),
    ("semicolon-addresses", ["/b/d ; /d/d"], "a\nb\nc\nd\n", "a\nc\n", 0),
    ("doubled-semicolons", [";;s/a/X/;;"], "a\n", "X\n", 0),
    ("newline-chain", ["s/a/X/\ns/b/Y/"], "ab\n", "XY\n", 0),
    ("comment", ["# strip\ns/a/X/ # trailing"], "a\n", "X\n", 0),
    ("two-e", ["-e", "s/a/X/", "-e", "s/c/Z/"], "abc\n", "XbZ\n", 0),
    ("e-order", ["-e", "s/a/b/", "-e", "s/b/c/"], "a\n", "c\n", 0),
    ("three-e", ["-e", "s/a/1/", "-e", "s/b/2/", "-e", "s/c/3/"], "abc\n", "123\n", 0),
    ("long-expression", ["--expression=s/a/X/", "--expression=s/c/Z/"], "abc\n", "XbZ\n", 0),
    ("mixed-e", ["-e", "s/a/X/", "--expression=s/b/Y/"], "abc\n", "XYc\n", 0),
    ("glued-e", ["-e1d", "-e2d"], "a\nb\nc\n", "c\n", 0),
    ("cluster-ne", ["-ne", "2p"], "a\nb\n", "b\n", 0),
    # input shapes
    ("empty-input", ["s/foo/bar/"], "", "", 0),
    ("no-final-newline", ["s/x/y/"], "x", "y\n", 0),
    ("blank-line", ["s/^$/E/"], "\n", "E\n", 0),
    ("crlf-stripped", ["s/$/!/"], "a\r\nb\r\n", "a!\nb!\n", 0),
]


@pytest.mark.parametrize(
    ("words", "stdin", "expected", "status"),
    [pytest.param(w, i, e, s, id=name) for name, w, i, e, s in CASES],
)
def test_sed_cases(words: list[str], stdin: str, expected: str, status: int) -> None:
    result = run_tool(Sed, *words, stdin=stdin.encode())
    assert (result.out, result.code) == (expected, status), result.stderr
    assert result.stderr == ""


# (id, words, substrings of stderr) — every invalid script is E006, exit 1, no output
ERRORS = [
    ("unknown-command", ["zzz"], ["E006", "unknown command"]),
    ("hold-space", ["h"], ["E006", "hold space"]),
    ("exchange", ["1x"], ["E006", "hold space"]),
    ("branch", [":a;b a"], ["E006", "branching"]),
    ("test-branch", ["s/a/b/;t"], ["E006", "branching"]),
    ("write-file", ["w out.txt"], ["E006", "file commands"]),
    ("read-file", ["1r in.txt"], ["E006", "file commands"]),
    ("next-line", ["N"], ["E006", "multi-line"]),
    ("braces", ["/a/{p}"], ["E006", "grouping"]),
    ("step-address", ["1~2d"], ["E006", "first~step"]),
    ("zero-address", ["0,/re/d"], ["E006", "0,/re/"]),
    ("plus-range", ["/re/,+2d"], ["E006", "addr,+N"]),
    ("tilde-range", ["/re/,~2d"], ["E006", "addr,~N"]),
    ("w-flag", ["s/a/b/w out"], ["E006", "out of scope"]),
    ("bad-flag", ["s/a/b/z"], ["E006", "unknown option"]),
    ("zero-occurrence", ["s/a/b/0"], ["E006", "zero"]),
    ("unterminated-s", ["s/a/b"], ["E006", "unterminated"]),
    ("missing-delimiter", ["s"], ["E006", "delimiter"]),
    ("y-length", ["y/abc/xy/"], ["E006", "different lengths"]),
    ("missing-command", ["5"], ["E006", "missing command"]),
    ("dangling-comma", ["1,d"], ["E006", "range end"]),
    ("bang-without-address", ["!d"], ["E006", "address"]),
    ("bad-regex", ["s/[invalid/bar/"], ["E006", "unclosed"]),
    ("bre-stray-paren", ["s/a\\)/X/"], ["E006", "GNU BRE", "[)]", "-E/-r"]),
    ("strict-stray-paren", ["-E", "s/a)/X/"], ["E006", "unbalanced"]),
    ("backreference", ["s/(a)\\1/X/"], ["E006", "backreference"]),
    ("bad-group-reference", ["-E", "s/\\(a\\)/\\1/"], ["E006", "invalid reference"]),
    ("empty-regex-first", ["s//x/"], ["E006", "no previous regular expression"]),
    ("empty-program", [";"], ["E006", "empty expression"]),
]


@pytest.mark.parametrize(
    ("words", "needles"), [pytest.param(w, n, id=name) for name, w, n in ERRORS]
)
def test_sed_invalid_scripts_are_e006(words: list[str], needles: list[str]) -> None:
    result = run_tool(Sed, *words, stdin=b"a\nb\n")
    assert result.code == 1
    assert result.out == ""
    for needle in needles:
        assert needle in result.stderr


def test_e006_message_shape() -> None:
    result = run_tool(Sed, "zzz", stdin=b"hello\n")
    first, suggestion = result.stderr.rstrip("\n").split("\n")
    assert first.startswith("error [E006]: sed: ")
    assert suggestion.startswith("  → commands:")


def test_missing_expression() -> None:
    result = run_tool(Sed)
    assert result.code == 1 and "missing expression" in result.stderr


def test_binary_input_is_refused() -> None:
    result = run_tool(Sed, "p", stdin=b"ok\n\xff\xfe\n")
    assert result.code == 1
    assert "invalid UTF-8" in result.stderr
    assert "byte 3" in result.stderr


def test_json_output_is_one_string() -> None:
    result = run_tool(Sed, "s/a/b/", "--json", stdin=b"a\n")
    assert result.is_value and result.data == "b\n"


# ---------------------------------------------------------------- files


def _shell(tmp_path: Path) -> FakeShell:
    return FakeShell(cwd_path=str(tmp_path))


def test_reads_a_file_operand(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("hello world\n")
    result = run_tool(Sed, "s/world/kaish/", "data.txt", shell=_shell(tmp_path))
    assert (result.code, result.out) == (0, "hello kaish\n")


def test_files_form_one_stream(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("1\n2\n")
    (tmp_path / "b").write_text("3\n4\n")
    result = run_tool(Sed, "-n", "2p;$p", "a", "b", shell=_shell(tmp_path))
    assert result.out == "2\n4\n"


def test_e_scripts_make_every_operand_a_file(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("one two\n")
    result = run_tool(Sed, "-e", "s/one/1/", "-e", "s/two/2/", "in.txt", shell=_shell(tmp_path))
    assert result.out == "1 2\n"


def test_missing_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x\n")
    result = run_tool(Sed, "p", "nope", "a", "-n", shell=_shell(tmp_path))
    assert result.code == 2
    assert "nope: not found" in result.stderr
    assert result.out == "x\n"


def test_in_place_edits_each_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("foo\nbar\n")
    (tmp_path / "b.txt").write_text("foo\n")
    result = run_tool(Sed, "-i", "s/foo/baz/;$a end", "a.txt", "b.txt", shell=_shell(tmp_path))
    assert (result.code, result.out) == (0, "")
    assert (tmp_path / "a.txt").read_text() == "baz\nbar\nend\n"
    assert (tmp_path / "b.txt").read_text() == "baz\nend\n"


def test_in_place_with_quiet_and_quit(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("1\n2\n3\n")
    run_tool(Sed, "-n", "-i", "2p", "f", shell=_shell(tmp_path))
    assert (tmp_path / "f").read_text() == "2\n"
    (tmp_path / "g").write_text("1\n2\n3\n")
    run_tool(Sed, "-i", "2q", "g", shell=_shell(tmp_path))
    assert (tmp_path / "g").read_text() == "1\n2\n"


def test_in_place_without_files_is_loud() -> None:
    result = run_tool(Sed, "-i", "s/a/b/", stdin=b"a\n")
    assert result.code == 1
    assert "-i requires file operands" in result.stderr


def test_in_place_missing_file(tmp_path: Path) -> None:
    result = run_tool(Sed, "-i", "s/a/b/", "nope", shell=_shell(tmp_path))
    assert result.code == 1 and "nope: not found" in result.stderr


def test_in_place_refuses_binary(tmp_path: Path) -> None:
    (tmp_path / "bin").write_bytes(b"\xff\n")
    result = run_tool(Sed, "-i", "s/a/b/", "bin", shell=_shell(tmp_path))
    assert result.code == 1 and "invalid UTF-8" in result.stderr
    assert (tmp_path / "bin").read_bytes() == b"\xff\n"


# ---------------------------------------------------------------- streaming


class EndlessInput(InputStream):
    """`yes`: the same block forever, counting reads."""

    def __init__(self, block: bytes = b"y\n" * 1000) -> None:
        self.block = block
        self.reads = 0
        self.closed = False

    async def read(self, n: int = 65536) -> bytes:
        self.reads += 1
        await asyncio.sleep(0)
        return self.block

    def close(self) -> None:
        self.closed = True


@pytest.mark.timeout(10)
@pytest.mark.parametrize("script", ["3q", "/y/q", "$!q"])
def test_quit_returns_on_endless_input(script: str) -> None:
    source = EndlessInput()
    result = run_tool(Sed, script, stdin=source)
    assert result.code == 0
    assert result.out.startswith("y\n")
    assert source.reads <= 3 and source.closed


class TrickleInput(InputStream):
    """Lines handed over one at a time by the test."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    async def read(self, n: int = 65536) -> bytes:
        return await self.queue.get()


@pytest.mark.timeout(10)
@pytest.mark.parametrize("script", ["s/a/A/", "$s/a/A/"])
def test_output_streams_before_eof(script: str) -> None:
    async def scenario() -> None:
        source = TrickleInput()
        out = CaptureOutput()
        ctx = ToolContext(
            name="sed",
            args=bind(Sed.schema, [word_to_raw(script)]),
            stdin=source,
            stdout=out,
            stderr=ErrorBuffer(),
            shell=FakeShell(),
        )
        task = asyncio.create_task(Sed().run(ctx))
        await source.queue.put(b"a1\n")
        await source.queue.put(b"a2\n")
        for _ in range(50):
            await asyncio.sleep(0)
        # without `$` every line is out at once; with `$` one line is held back
        expected = b"A1\nA2\n" if script == "s/a/A/" else b"a1\n"
        assert out.getvalue() == expected
        await source.queue.put(b"")
        assert await task == 0
        assert out.getvalue() == (b"A1\nA2\n" if script == "s/a/A/" else b"a1\nA2\n")

    asyncio.run(scenario())


class ClosedReader(CaptureOutput):
    async def write(self, data: bytes) -> None:
        raise BrokenPipeError("reader left")


def test_departed_reader_stops_quietly() -> None:
    async def scenario() -> int:
        source = EndlessInput()
        ctx = ToolContext(
            name="sed",
            args=bind(Sed.schema, [word_to_raw("s/y/n/")]),
            stdin=source,
            stdout=ClosedReader(),
            stderr=ErrorBuffer(),
            shell=FakeShell(),
        )
        return await Sed().run(ctx)

    assert asyncio.run(scenario()) == 0


def test_large_input_round_trips() -> None:
    lines = "".join(f"line {i}\n" for i in range(50_000))
    result = run_tool(Sed, "s/line/L/", stdin=lines.encode())
    assert result.out == lines.replace("line", "L")


def test_check_reports_e006_without_running() -> None:
    assert Sed.check(bind(Sed.schema, [word_to_raw("s/a/b/")])) is None
    report = Sed.check(bind(Sed.schema, [word_to_raw("h")]))
    assert report is not None and report.startswith("error [E006]: sed: hold space")
    assert Sed.check(bind(Sed.schema, [])) is None  # missing script is a runtime error
