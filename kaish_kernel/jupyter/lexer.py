"""The Pygments lexer for kaish (`pygments_lexer: kaish` in language_info).

Registered through the `pygments.lexers` entry point, so nbconvert, Sphinx
and JupyterLab's static renderers highlight `.kai` files and kaish cells.
It colours, it does not validate: the real lexer lives in
`kaish_kernel.lang` and decides what a script means. The builtin list is
spelled out here (not read from the registry) so highlighting never has to
import the interpreter's tools.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, include, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

__all__ = ["BUILTINS", "KEYWORDS", "KaishLexer"]

KEYWORDS = (
    "if", "then", "elif", "else", "fi", "for", "while", "until", "in", "do", "done",
    "case", "esac", "function", "break", "continue", "return", "exit", "local",
)  # fmt: skip

BUILTINS = (
    "alias", "assert", "awk", "base64", "basename", "bg", "cat", "cd", "checksum", "cmp",
    "cp", "cut", "date", "dd", "diff", "dirname", "echo", "env", "export", "false", "fg",
    "find", "fromjson", "fromjsonl", "gather", "glob", "grep", "head", "help", "hostname",
    "jobs", "jq", "kaish-last", "kaish-validate", "kaish-vars", "keys", "kill", "ln", "ls",
    "mkdir", "mktemp", "mv", "printf", "push", "pwd", "read", "readlink", "realpath", "rm",
    "scatter", "sed", "seq", "set", "sleep", "sort", "source", "spawn", "split", "stat",
    "tac", "tail", "tee", "test", "timeout", "tojson", "tojsonl", "touch", "tr", "tree",
    "true", "type", "typeof", "unalias", "uname", "uniq", "unset", "values", "vars", "wait",
    "wc", "which", "write", "xxd",
)  # fmt: skip

_WORD_END = r"(?=[\s;|&()<>]|$)"


class KaishLexer(RegexLexer):
    """kaish: an sh-shaped shell whose values are JSON."""

    name = "kaish"
    aliases = ["kaish", "kai"]  # noqa: RUF012 - Pygments reads class attributes
    filenames = ["*.kai"]  # noqa: RUF012
    mimetypes = ["text/x-kaish"]  # noqa: RUF012
    url = "https://github.com/tobert/kaish"

    tokens = {  # noqa: RUF012
        "root": [
            include("basic"),
            include("data"),
            include("interp"),
        ],
        "interp": [
            (r"\$\(\(", Keyword, "math"),
            (r"\$\(", Keyword, "paren"),
            (r"\$\{", String.Interpol, "curly"),
            (r"\$[A-Za-z_][\w]*", Name.Variable),
            (r"\$[0-9?$#@!*-]", Name.Variable),
            (r"\$", Text),
        ],
        "basic": [
            (r"#.*$", Comment.Single),
            (r"\\[\s\S]", String.Escape),
            (words(KEYWORDS, prefix=r"(?<![\w.\-/$])", suffix=_WORD_END), Keyword),
            (words(BUILTINS, prefix=r"(?<![\w.\-/$])", suffix=_WORD_END), Name.Builtin),
            (r"(\b[A-Za-z_][\w]*)(\s*)(=)", bygroups(Name.Variable, Whitespace, Operator)),
            (r"(?<![\w-])--?[A-Za-z][\w-]*", Name.Attribute),
            (r"%[0-9]+\b", Name.Label),
            (r"&&|\|\||;;|2>&1|1>&2|>&2|&>|2>|>>|<<<|<<-|<<|[|&;<>]", Operator),
            (r"\[\[|\]\]", Operator),
            (r"[()\[\]{},:]", Punctuation),
        ],
        "data": [
            (r"(?s)'.*?'", String.Single),
            (r'"', String.Double, "string"),
            (r"\s+", Whitespace),
            (r"-?\b\d+(\.\d+)?\b", Number),
            (r"[^=\s\[\]{}()$\"'`\\<>|&;#,:%]+", Text),
            (r"[=%#]", Text),
        ],
        "string": [
            (r'"', String.Double, "#pop"),
            (r'(?s)(\\\\|\\[0-7]+|\\.|[^"\\$])+', String.Double),
            include("interp"),
        ],
        "curly": [
            (r"\}", String.Interpol, "#pop"),
            (r":-", Operator),
            (r"\w+", Name.Variable),
            (r"[^}:\"'`$\\]+", Punctuation),
            (r":", Punctuation),
            include("root"),
        ],
        "paren": [
            (r"\)", Keyword, "#pop"),
            include("root"),
        ],
        "math": [
            (r"\)\)", Keyword, "#pop"),
            (r"\*\*|\+\+|--|[-+*/%^|&!<>=]=?", Operator),
            (r"\d+", Number),
            include("root"),
        ],
    }
