"""`ls`, `glob` and `tree`: the builtins that name files.

Both print one name per line and carry the same names as a typed value, so
`for f in $(glob "*.txt")` iterates lines and `glob "*.rs" | jq length`
sees a list. `--json` prints that value instead; it is also the only way to
list a name that holds a newline (text output refuses it, exit 2).

    ls                      one operand: a directory's entries (or -R: a tree),
                            a file's own name, or a quoted pattern's matches
    ls a b c                several operands: one line per operand, as named
    glob PATTERN...         files matching any pattern (union, de-duplicated);
                            a pattern that matches nothing is an error
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.builtins._fsutil import (
    host_path,
    lstat,
    newline_name,
    newline_refusal,
    operand_texts,
    reason,
    write_lines,
)
from kaish_kernel.tools.builtins._globbing import (
    IgnoreRules,
    expand_glob,
    glob_match,
    is_glob_pattern,
)
from kaish_kernel.tools.schema import Param, Schema
from kaish_kernel.values import Value, display

__all__ = ["FILE_TYPES", "Glob", "Ls", "Tree", "human_size"]

_HEADERS = ("NAME", "TYPE", "SIZE")


def human_size(size: int) -> str:
    """`1.5K`, `12M`: one decimal below 10, none above, powers of 1024."""
    units = ("", "K", "M", "G", "T", "P")
    value = float(size)
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return str(size)
    return f"{value:.0f}{units[unit]}" if value >= 10 else f"{value:.1f}{units[unit]}"


@dataclass(slots=True)
class _Entry:
    name: str  # as shown
    kind: str  # "file" | "dir" | "symlink" | "other"
    size: int
    mtime: float

    @property
    def type_char(self) -> str:
        return "l" if self.kind == "symlink" else "d" if self.kind == "dir" else "-"


class Ls(Tool):
    schema = Schema(
        name="ls",
        summary="List directory contents",
        params=(
            Param("long", short="l", help="Long form: name, type (d, l or -) and size."),
            Param("all", short="a", help="Show entries whose names start with `.`."),
            Param("one", short="1", help="One entry per line (always so when piped)."),
            Param("human", short="h", help="Sizes as 1.5K, 12M, ..."),
            Param("sort-time", short="t", aliases=("sort_time",), help="Newest first."),
            Param("reverse", short="r", help="Reverse the order."),
            Param("sort-size", short="S", aliases=("sort_size",), help="Largest first."),
            Param("recursive", short="R", help="List subdirectories too."),
            Param("paths", type="any", positional=True, variadic=True, help="What to list (default: the current directory)."),
        ),
        description=(
            "Several operands list one line per operand (directories by name, not\n"
            "contents); an operand that does not exist is reported and makes the exit 1.\n"
            "With -R, ignored directories (.git, node_modules, ... and .gitignore) are\n"
            "skipped unless -a is given."
        ),
        examples=(
            ("Current directory", "ls"),
            ("Hidden files, long form", "ls -la /path"),
            ("Largest first", "ls -lS"),
            ("Recursive", "ls -R src"),
        ),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        return await _LsRun(ctx).run()


class _LsRun:
    """One invocation of `ls` (tool instances are shared, so state lives here)."""

    def __init__(self, ctx: ToolContext) -> None:
        self.ctx = ctx
        self.vfs = ctx.shell.vfs
        self.long = ctx.args.flag("long")
        self.human = ctx.args.flag("human")
        self.show_all = ctx.args.flag("all")
        self.missing = False

    async def run(self) -> int:
        ctx = self.ctx
        # The lexer reads `-1` as the number -1; it can only mean the flag here.
        operands = [v for v in ctx.args.positional if not (type(v) is int and v == -1)]
        texts = operand_texts(ctx, operands) if operands else ["."]
        if texts is None:
            return 1
        if len(texts) == 1 and not is_glob_pattern(texts[0]):
            path = texts[0]
            resolved = ctx.shell.resolve_path(path)
            try:
                info = self.vfs.stat(resolved)
            except OSError:
                info = None
            if info is not None and not info.is_dir:
                entries = self._named([path])
                return await self._finish(self._flat(entries), 0)
            if ctx.args.flag("recursive"):
                return await self._recursive(path, resolved)
            try:
                listing = self._directory(resolved)
            except OSError as exc:
                return ctx.error(f"{path}: {reason(exc)}")
            return await self._finish(self._flat(listing), 0)
        names: list[str] = []
        for text in texts:
            if is_glob_pattern(text):
                names.extend(expand_glob(text, ctx.shell.cwd, vfs=self.vfs))
            else:
                names.append(text)
        entries = self._named(names)
        return await self._finish(self._flat(entries), 1 if self.missing else 0)

    # -- gathering --

    def _size(self, size: int) -> str:
        return human_size(size) if self.human else str(size)

    def _sorted(self, entries: list[_Entry]) -> list[_Entry]:
        flag = self.ctx.args.flag
        if flag("sort-time"):
            entries.sort(key=lambda e: (-e.mtime, e.name))
        elif flag("sort-size"):
            entries.sort(key=lambda e: (-e.size, e.name))
        else:
            entries.sort(key=lambda e: e.name)
        if flag("reverse"):
            entries.reverse()
        return entries

    def _directory(self, resolved: str) -> list[_Entry]:
        """A directory's entries, hidden ones dropped unless -a; links marked."""
        listing = self.vfs.listdir(resolved)
        real = host_path(self.vfs, resolved)
        out = []
        for info in listing:
            if info.name.startswith(".") and not self.show_all:
                continue
            kind, shown = info.kind, info.name
            link = posixpath.join(real, info.name) if real else None
            if link is not None and posixpath.islink(link):
                kind = "symlink"
                shown = f"{info.name} -> {_readlink(link)}" if self.long else f"{info.name}@"
            out.append(_Entry(shown, kind, info.size, info.mtime))
        return self._sorted(out)

    def _named(self, names: list[str]) -> list[_Entry]:
        """Explicit operands, shown as named; a missing one is reported."""
        out = []
        for name in names:
            resolved = self.ctx.shell.resolve_path(name)
            try:
                info = lstat(self.vfs, resolved)
            except OSError as exc:
                self.ctx.stderr.write(f"ls: cannot access '{name}': {reason(exc)}\n")
                self.missing = True
                continue
            out.append(_Entry(name, info.kind, info.size, info.mtime))
        return self._sorted(out)

    # -- rendering --

    def _flat(self, entries: list[_Entry]) -> tuple[list[str], Value]:
        if self.long:
            lines = [f"{e.name}\t{e.type_char}\t{self._size(e.size)}" for e in entries]
            rows = [dict(zip(_HEADERS, (e.name, e.type_char, self._size(e.size)), strict=True)) for e in entries]
            return lines, rows
        names = [e.name for e in entries]
        return names, names

    async def _finish(self, result: tuple[list[str], Value], code: int) -> int:
        lines, value = result
        if self.ctx.args.json:
            await self.ctx.emit_value(value)
            return code
        bad = newline_name(lines)
        if bad is not None:
            return self.ctx.error(newline_refusal("ls", bad), 2)
        self.ctx.stdout.set_data(value)
        await write_lines(self.ctx, lines)
        return code

    async def _recursive(self, operand: str, root: str) -> int:
        """Depth-first walk: text sections headed `DIR:`, a tree for --json."""
        ignore = None if self.show_all else IgnoreRules.for_root(self.vfs, root)
        stack = [(root, ".", operand)]
        sections: list[str] = []
        groups: list[tuple[str, list[_Entry]]] = []
        errors = False
        while stack:
            abs_dir, json_name, header = stack.pop()
            try:
                entries = self._directory(abs_dir)
            except OSError as exc:
                self.ctx.stderr.write(f"ls: cannot open directory '{header}': {reason(exc)}\n")
                errors = True
                continue
            if ignore is not None:
                entries = [
                    e
                    for e in entries
                    if not (e.kind == "dir" and ignore(posixpath.join(abs_dir, e.name), True))
                ]
            groups.append((json_name, entries))
            if self.long:
                body = [f"{e.type_char}  {self._size(e.size)}  {e.name}" for e in entries]
            else:
                body = [e.name for e in entries]
            sections.append("\n".join([f"{header}:", *body]))
            subdirs = [e for e in entries if e.kind == "dir"]
            for e in reversed(subdirs):
                child_json = e.name if json_name == "." else f"{json_name}/{e.name}"
                stack.append(
                    (posixpath.join(abs_dir, e.name), child_json, f"{header.rstrip('/')}/{e.name}")
                )
        value = self._tree(groups)
        code = 1 if errors else 0
        if self.ctx.args.json:
            await self.ctx.emit_value(value)
            return code
        names = [e.name for _, entries in groups for e in entries]
        bad = newline_name(names)
        if bad is not None:
            return self.ctx.error(newline_refusal("ls", bad), 2)
        self.ctx.stdout.set_data(value)
        text = "\n\n".join(sections)
        if text:
            await write_lines(self.ctx, [text])
        return code

    def _tree(self, groups: list[tuple[str, list[_Entry]]]) -> Value:
        if self.long:
            return [
                {
                    "NAME": name,
                    "children": [
                        dict(zip(_HEADERS, (e.name, e.type_char, self._size(e.size)), strict=True))
                        for e in entries
                    ],
                }
                for name, entries in groups
            ]
        nested = {name: {e.name: None for e in entries} or None for name, entries in groups}
        if len(nested) == 1:
            return next(iter(nested.values()))
        return nested


@dataclass(slots=True)
class _TreeNode:
    is_dir: bool = False
    broken: bool = False
    children: dict[str, _TreeNode] | None = None

    def child(self, name: str) -> _TreeNode:
        if self.children is None:
            self.children = {}
        return self.children.setdefault(name, _TreeNode())

    def sorted_children(self) -> list[tuple[str, _TreeNode]]:
        return sorted((self.children or {}).items())

    def label(self, name: str) -> str:
        return f"{name} [error opening dir]" if self.broken else name

    def braces(self, name: str) -> str:
        """`name/{a,b/{c}}`: the one-line form used when piped."""
        kids = self.sorted_children()
        if not kids:
            return self.label(name)
        return f"{self.label(name)}/{{{','.join(node.braces(n) for n, node in kids)}}}"

    def as_value(self) -> Value:
        kids = self.sorted_children()
        return {self.label(n): node.as_value() for n, node in kids} if kids else None

    def traditional(self, prefix: str, out: list[str]) -> None:
        kids = self.sorted_children()
        for i, (name, node) in enumerate(kids):
            last = i == len(kids) - 1
            slash = "/" if node.is_dir and not node.children else ""
            out.append(f"{prefix}{'└── ' if last else '├── '}{node.label(name + slash)}")
            if node.children:
                node.traditional(prefix + ("    " if last else "│   "), out)

    def flat(self, depth: int, out: list[str]) -> None:
        for name, node in self.sorted_children():
            out.append("  " * depth + node.label(name + ("/" if node.is_dir else "")))
            if node.children:
                node.flat(depth + 1, out)


class Tree(Tool):
    schema = Schema(
        name="tree",
        summary="Show a directory tree",
        params=(
            Param("level", type="int", short="L", help="Descend at most N levels.", metavar="N"),
            Param("traditional", help="Box-drawing lines, one entry per line."),
            Param("flat", help="Indented names, one entry per line."),
            Param("files-only", short="f", aliases=("files_only",), help="Leave out directory entries."),
            Param("all", short="a", help="Show entries whose names start with `.`."),
            Param("no-ignore", aliases=("no_ignore",), help="Include ignored directories (.git, node_modules, ...)."),
            Param("path", type="any", positional=True, help="Where to start (default: .)."),
        ),
        description=(
            "The default text is one line in brace form, `src/{main.rs,lib/{a.rs}}`; --json\n"
            "gives nested records (files are null). Unreadable directories are marked\n"
            "`[error opening dir]` and make the exit status 1."
        ),
        examples=(("Two levels", "tree -L 2"), ("Drawn", "tree --traditional src")),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        args = ctx.args
        texts = operand_texts(ctx, args.positional) if args.positional else ["."]
        if texts is None:
            return 1
        path = texts[0]
        vfs = ctx.shell.vfs
        root = ctx.shell.resolve_path(path)
        if not vfs.exists(root):
            return ctx.error(f"{path}: No such file or directory")
        level = args.get("level")
        if level is not None and level < 0:
            return ctx.error(f"invalid --level {level}: must be >= 0", 2)
        ignore = None if args.flag("no-ignore") else IgnoreRules(root=root)
        top = _TreeNode(is_dir=True)
        stack: list[tuple[str, _TreeNode, int, str]] = [(root, top, 0, path)]
        failed = False
        while stack:
            abs_dir, node, depth, shown = stack.pop()
            if level is not None and depth >= level:
                continue
            try:
                listing = vfs.listdir(abs_dir)
            except OSError as exc:
                node.broken = True
                ctx.stderr.write(f"tree: {shown}: {reason(exc)}\n")
                failed = True
                continue
            for entry in listing:
                if entry.name.startswith(".") and not args.flag("all"):
                    continue
                child_abs = posixpath.join(abs_dir, entry.name)
                if ignore is not None and entry.is_dir and ignore(child_abs, True):
                    continue
                if entry.is_dir:
                    child = node.child(entry.name)
                    child.is_dir = True
                    stack.append((child_abs, child, depth + 1, f"{shown.rstrip('/')}/{entry.name}"))
                else:
                    node.child(entry.name)
        if args.flag("files-only"):
            _drop_empty_dirs(top)
        name = posixpath.basename(path.rstrip("/")) if path.strip("/") not in ("", ".") else "."
        code = 1 if failed else 0
        if args.json:
            await ctx.emit_value(top.as_value())
            return code
        if args.flag("traditional") or args.flag("flat"):
            lines = [top.label(name + "/")]
            if args.flag("flat"):
                top.flat(1, lines)
            else:
                top.traditional("", lines)
        else:
            lines = [top.braces(name)]
        ctx.stdout.set_data(top.as_value())
        await write_lines(ctx, lines)
        return code


def _drop_empty_dirs(node: _TreeNode) -> None:
    """With -f, directories only stay as the path to some file."""
    for name, child in list((node.children or {}).items()):
        if child.is_dir:
            _drop_empty_dirs(child)
            if not child.children and not child.broken and node.children is not None:
                del node.children[name]


def _readlink(path: str) -> str:
    import os

    try:
        return os.readlink(path)
    except OSError:
        return "?"


# Extension globs per file type, for `glob --ftype` (a small rg-style table).
FILE_TYPES: dict[str, tuple[str, ...]] = {
    "c": ("*.c", "*.h"),
    "cpp": ("*.cpp", "*.cc", "*.cxx", "*.hpp", "*.hh", "*.hxx", "*.h"),
    "css": ("*.css", "*.scss", "*.sass", "*.less"),
    "csv": ("*.csv", "*.tsv"),
    "go": ("*.go",),
    "html": ("*.html", "*.htm"),
    "java": ("*.java",),
    "js": ("*.js", "*.mjs", "*.cjs", "*.jsx"),
    "json": ("*.json", "*.jsonl"),
    "kaish": ("*.kai",),
    "markdown": ("*.md", "*.markdown"),
    "md": ("*.md", "*.markdown"),
    "py": ("*.py", "*.pyi"),
    "python": ("*.py", "*.pyi"),
    "ruby": ("*.rb",),
    "rust": ("*.rs",),
    "sh": ("*.sh", "*.bash", "*.zsh"),
    "sql": ("*.sql",),
    "toml": ("*.toml",),
    "ts": ("*.ts", "*.tsx", "*.mts", "*.cts"),
    "txt": ("*.txt",),
    "yaml": ("*.yaml", "*.yml"),
}


class Glob(Tool):
    schema = Schema(
        name="glob",
        summary="List the files matching glob patterns",
        params=(
            Param("depth", type="int", short="d", help="At most this many directories below the start.", metavar="N"),
            Param("no-ignore", aliases=("no_ignore",), help="Do not skip .git, node_modules, ... or .gitignore'd paths."),
            Param("hidden", short="a", help="Wildcards also match names starting with `.`."),
            Param("type", type="str", short="t", help="Entry kind: f files (default), d directories, a all.", metavar="KIND"),
            Param("ftype", type="str", repeatable=True, help="Only files of this type (see --ftype-list); repeatable.", metavar="TYPE"),
            Param("ftype-not", type="str", repeatable=True, help="Leave out files of this type; repeatable.", metavar="TYPE"),
            Param("ftype-list", help="Print the known file types and exit."),
            Param("null", short="0", help="Separate names with NUL instead of newline."),
            Param("include", type="str", repeatable=True, help="Keep only files also matching this pattern; repeatable.", metavar="PATTERN"),
            Param("exclude", type="str", repeatable=True, help="Drop matches (and prune directories) matching this pattern; repeatable.", metavar="PATTERN"),
            Param("patterns", type="str", positional=True, variadic=True, help="Patterns: * ? [..] {a,b} and ** for any depth."),
        ),
        usage="glob [OPTIONS] PATTERN...",
        description=(
            "Patterns reach glob as written (no quoting needed). Relative patterns give\n"
            "relative paths, absolute ones absolute paths. Names starting with `.` are only\n"
            "matched by a pattern segment starting with `.` (or with -a). A pattern that\n"
            "matches nothing is an error. --include/--exclude patterns without a `/` match\n"
            "the file name, others the path."
        ),
        examples=(
            ("All Rust files", "glob **/*.rs"),
            ("Several patterns", "glob **/*.rs **/*.toml"),
            ("Several extensions", "glob **/*.{rs,go,py}"),
            ("Without tests", "glob **/*.rs --exclude='*_test.rs'"),
            ("Directories only", "glob '**/*' -t d"),
        ),
        json_output=True,
        patterns_as_data=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        args = ctx.args
        if args.flag("ftype-list"):
            return await self._list_types(ctx)
        kind = display(args.get("type", "f"))
        if kind not in ("f", "d", "a"):
            return ctx.error(f"invalid --type '{kind}': expected f, d, or a", 2)
        depth = args.get("depth")
        if depth is not None and depth < 0:
            return ctx.error(f"invalid --depth {depth}: must be >= 0", 2)
        selected: list[str] = []
        rejected: list[str] = []
        for name, sink in (("ftype", selected), ("ftype-not", rejected)):
            for type_name in args.get(name) or []:
                if type_name not in FILE_TYPES:
                    return ctx.error(f"unknown file type '{type_name}' (see glob --ftype-list)", 2)
                sink.extend(FILE_TYPES[type_name])
        patterns = operand_texts(ctx, args.positional)
        if patterns is None:
            return 1
        if not patterns:
            return ctx.error("missing pattern argument")
        cwd = ctx.shell.cwd
        vfs = ctx.shell.vfs
        skip = _Skipper(
            IgnoreRules.for_root(vfs, cwd) if not args.flag("no-ignore") else None,
            [display(p) for p in args.get("exclude") or []],
            cwd,
        )
        includes = [display(p) for p in args.get("include") or []]
        names: list[str] = []
        seen: set[str] = set()
        for pattern in patterns:
            found = expand_glob(
                pattern,
                cwd,
                vfs=vfs,
                dotglob=args.flag("hidden"),
                files=kind in ("f", "a"),
                dirs=kind in ("d", "a"),
                max_depth=depth,
                ignore=skip if skip.active else None,
            )
            found = [n for n in found if _keep(vfs, cwd, n, includes, selected, rejected)]
            if not found:
                return ctx.error(f"no matches for pattern '{pattern}'")
            for name in found:
                if name not in seen:
                    seen.add(name)
                    names.append(name)
        if args.json:
            await ctx.emit_value(names)
            return 0
        if args.flag("null"):
            ctx.stdout.set_data(names)
            try:
                await ctx.stdout.write("\0".join(names).encode("utf-8"))
            except BrokenPipeError:
                pass
            return 0
        bad = newline_name(names)
        if bad is not None:
            return ctx.error(newline_refusal("glob", bad), 2)
        ctx.stdout.set_data(names)
        await write_lines(ctx, names)
        return 0

    async def _list_types(self, ctx: ToolContext) -> int:
        rows = [{"TYPE": name, "GLOBS": ", ".join(globs)} for name, globs in sorted(FILE_TYPES.items())]
        if ctx.args.json:
            await ctx.emit_value(rows)
            return 0
        ctx.stdout.set_data(rows)
        await write_lines(ctx, [f"{r['TYPE']}\t{r['GLOBS']}" for r in rows])
        return 0


class _Skipper:
    """The walk-time filter: ignore rules plus --exclude (which also prunes dirs)."""

    def __init__(self, rules: IgnoreRules | None, excludes: list[str], cwd: str) -> None:
        self.rules = rules
        self.excludes = excludes
        self.cwd = cwd
        self.active = rules is not None or bool(excludes)

    def __call__(self, abs_path: str, is_dir: bool) -> bool:
        if self.rules is not None and self.rules(abs_path, is_dir):
            return True
        return any(_pattern_hits(p, abs_path, self.cwd) for p in self.excludes)


def _pattern_hits(pattern: str, abs_path: str, cwd: str) -> bool:
    if "/" in pattern.strip("/"):
        return glob_match(pattern, posixpath.relpath(abs_path, cwd))
    return glob_match(pattern.strip("/"), posixpath.basename(abs_path))


def _keep(vfs: Any, cwd: str, name: str, includes: list[str], selected: list[str], rejected: list[str]) -> bool:
    """--include and --ftype narrow files only; directories pass through."""
    if not (includes or selected or rejected):
        return True
    abs_path = posixpath.normpath(posixpath.join(cwd, name))
    if vfs.is_dir(abs_path):
        return True
    base = posixpath.basename(name.rstrip("/"))
    if includes and not any(_pattern_hits(p, abs_path, cwd) for p in includes):
        return False
    if selected and not any(glob_match(g, base) for g in selected):
        return False
    return not (rejected and any(glob_match(g, base) for g in rejected))
