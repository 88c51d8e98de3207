"""Glob patterns over the VFS, with kaish's rules.

One engine serves the interpreter's bare-word expansion (`ls *.txt`,
`for f in **/*.rs`) and the `glob` / `ls` / `find` builtins, so a pattern
means the same thing everywhere:

    "src/**/*.{rs,go}"
        │ braces expanded first (bracex)      → src/**/*.rs, src/**/*.go
        │ leading literal segments split off  → walk root "src", rest "**/*.rs"
        ▼
    walk the rest segment by segment through the VFS
        literal  → one stat, no listing (reaches hidden dirs by name)
        wildcard → list the directory, match each name (wcmatch fnmatch)
        **       → zero or more directories, never hidden ones, never symlinks
        ▼
    results: sorted, de-duplicated, spelled relative to how the pattern was
    written (relative pattern → relative paths, `/…` → absolute paths)

Dotfile rule (bash without `dotglob`): a name that starts with `.` is only
matched by a segment that itself starts with a literal `.`; `**` does not
descend into hidden directories. `dotglob=True` lifts the rule.

No match is an empty list; the caller decides whether that is an error
("no matches: PATTERN" for a bare word, a per-pattern error for `glob`).
Imports of wcmatch/bracex are deferred to first use so starting a shell
stays fast.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_IGNORED_NAMES",
    "IgnoreRules",
    "expand_glob",
    "glob_match",
    "is_glob_pattern",
    "split_braces",
]

# Directory names a polite walker (glob, ls -R) skips unless told otherwise.
DEFAULT_IGNORED_NAMES: frozenset[str] = frozenset(
    {".git", "node_modules", "target", "__pycache__", ".venv", "venv", "dist", "build", ".next"}
)

_MAGIC = frozenset("*?[")


def is_glob_pattern(word: str) -> bool:
    """True when `word` holds an unescaped `*`, `?` or `[` (a pattern, not a path)."""
    escaped = False
    for ch in word:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in _MAGIC:
            return True
    return False


def _unescape(segment: str) -> str:
    out: list[str] = []
    escaped = False
    for ch in segment:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out.append(ch)
    if escaped:
        out.append("\\")
    return "".join(out)


def split_braces(pattern: str) -> list[str]:
    """Expand `{a,b}` alternatives (and `{1..3}` ranges) into separate patterns."""
    if "{" not in pattern:
        return [pattern]
    import bracex

    try:
        expanded = bracex.expand(pattern, keep_escapes=True, limit=10_000)
    except Exception:  # an unbalanced or oversized brace is taken literally
        return [pattern]
    return expanded or [pattern]


def _fnmatch_flags(*, ignore_case: bool = False) -> int:
    from wcmatch import fnmatch

    flags = fnmatch.DOTMATCH | fnmatch.BRACE
    if ignore_case:
        flags |= fnmatch.IGNORECASE
    return flags


def glob_match(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """Match a whole string against a pattern (`*` also crosses `/`; dots are plain).

    For `find -name/-path`, `--include/--exclude` and the like, where the
    text is a name or a path already walked.
    """
    from wcmatch import fnmatch

    return bool(fnmatch.fnmatch(text, pattern, flags=_fnmatch_flags(ignore_case=ignore_case)))


def _segment_matches(segment: str, name: str, dotglob: bool) -> bool:
    if name.startswith(".") and not dotglob and not segment.startswith("."):
        return False
    from wcmatch import fnmatch

    return bool(fnmatch.fnmatch(name, segment, flags=fnmatch.DOTMATCH))


@dataclass(slots=True)
class IgnoreRules:
    """A small .gitignore: `name`, `dir/`, `/anchored`, `a/b`, `!negated`.

    Called with absolute paths; anchored rules are taken relative to `root`
    (where the .gitignore lives). Later rules win, as in git.
    """

    root: str = "/"
    names: frozenset[str] = DEFAULT_IGNORED_NAMES
    rules: list[tuple[bool, bool, bool, str]] = field(default_factory=list)

    @classmethod
    def for_root(cls, vfs: Any, root: str, *, defaults: bool = True) -> IgnoreRules:
        """Default names plus the `.gitignore` at `root`, if there is one."""
        rules = cls(root=root, names=DEFAULT_IGNORED_NAMES if defaults else frozenset())
        try:
            text = vfs.read_bytes(posixpath.join(root, ".gitignore")).decode("utf-8", "replace")
        except (OSError, ValueError):
            return rules
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            anchored = "/" in line
            line = line.lstrip("/")
            if line:
                rules.rules.append((negate, dir_only, anchored, line))
        return rules

    def __call__(self, abs_path: str, is_dir: bool) -> bool:
        name = abs_path.rsplit("/", 1)[-1]
        rel_path = posixpath.relpath(abs_path, self.root) if self.rules else name
        ignored = is_dir and name in self.names
        for negate, dir_only, anchored, pattern in self.rules:
            if dir_only and not is_dir:
                continue
            target = rel_path if anchored else name
            if glob_match(pattern, target):
                ignored = not negate
        return ignored


@dataclass(slots=True)
class _Walk:
    vfs: Any
    dotglob: bool
    want_files: bool
    want_dirs: bool
    max_depth: int | None
    ignore: Callable[[str, bool], bool] | None
    found: set[str] = field(default_factory=set)

    def entries(self, abs_dir: str) -> list[tuple[str, bool]]:
        try:
            listing = self.vfs.listdir(abs_dir)
        except OSError:
            return []
        return sorted((e.name, e.is_dir) for e in listing)

    def is_symlink(self, abs_path: str) -> bool:
        try:
            fs, sub = self.vfs.route(abs_path)
            real = fs.real_path(sub)
        except (OSError, AttributeError):
            return False
        return real is not None and os.path.islink(real)

    def kind(self, abs_path: str) -> bool | None:
        """True for a directory, False for anything else, None when missing."""
        try:
            return bool(self.vfs.stat(abs_path).is_dir)
        except OSError:
            if self.is_symlink(abs_path):
                return False  # a dangling link still names an entry
            return None

    def too_deep(self, rel: str) -> bool:
        return self.max_depth is not None and rel.count("/") > self.max_depth

    def emit(self, rel: str, is_dir: bool) -> None:
        if (self.want_dirs if is_dir else self.want_files) and not self.too_deep(rel):
            self.found.add(rel)

    def skipped(self, abs_path: str, is_dir: bool) -> bool:
        return self.ignore is not None and self.ignore(abs_path, is_dir)

    def walk(self, abs_dir: str, rel: str, segments: list[str], i: int) -> None:
        segment = segments[i]
        last = i == len(segments) - 1
        if segment == "**":
            self.globstar(abs_dir, rel, segments, i, last)
            return
        if not is_glob_pattern(segment):
            name = _unescape(segment)
            child_abs = posixpath.join(abs_dir, name)
            child_rel = f"{rel}/{name}" if rel else name
            is_dir = self.kind(child_abs)
            if is_dir is None:
                return
            if last:
                self.emit(child_rel, is_dir)
            elif is_dir:
                self.walk(child_abs, child_rel, segments, i + 1)
            return
        for name, is_dir in self.entries(abs_dir):
            if not _segment_matches(segment, name, self.dotglob):
                continue
            child_rel = f"{rel}/{name}" if rel else name
            if self.skipped(posixpath.join(abs_dir, name), is_dir):
                continue
            if last:
                self.emit(child_rel, is_dir)
            elif is_dir and not self.too_deep(child_rel):
                self.walk(posixpath.join(abs_dir, name), child_rel, segments, i + 1)

    def globstar(self, abs_dir: str, rel: str, segments: list[str], i: int, last: bool) -> None:
        """`**`: the rest of the pattern here, then in every visible subdirectory."""
        for d_abs, d_rel in self.descend(abs_dir, rel):
            if last:
                if d_rel:
                    self.emit(d_rel, True)
                for name, is_dir in self.entries(d_abs):
                    if name.startswith(".") and not self.dotglob:
                        continue
                    child_abs = posixpath.join(d_abs, name)
                    child_rel = f"{d_rel}/{name}" if d_rel else name
                    # directories arrive through descend(); a linked one is
                    # listed here because `**` will not enter it
                    if is_dir and not self.is_symlink(child_abs):
                        continue
                    if not self.skipped(child_abs, is_dir):
                        self.emit(child_rel, is_dir)
            else:
                self.walk(d_abs, d_rel, segments, i + 1)

    def descend(self, abs_dir: str, rel: str) -> Iterator[tuple[str, str]]:
        """`abs_dir` and every directory beneath it that `**` may enter, depth first."""
        stack = [(abs_dir, rel)]
        while stack:
            d_abs, d_rel = stack.pop()
            yield d_abs, d_rel
            children = []
            for name, is_dir in self.entries(d_abs):
                if not is_dir or (name.startswith(".") and not self.dotglob):
                    continue
                child_rel = f"{d_rel}/{name}" if d_rel else name
                child_abs = posixpath.join(d_abs, name)
                if self.too_deep(child_rel) or self.skipped(child_abs, True):
                    continue
                if self.is_symlink(child_abs):
                    continue  # `**` never follows links: no cycles, no escapes
                children.append((child_abs, child_rel))
            stack.extend(reversed(children))


def _default_vfs() -> Any:
    from kaish_kernel.vfs.router import VfsRouter

    return VfsRouter()


def expand_glob(
    pattern: str,
    cwd: str,
    *,
    vfs: Any = None,
    dotglob: bool = False,
    files: bool = True,
    dirs: bool = True,
    max_depth: int | None = None,
    ignore: Callable[[str, bool], bool] | None = None,
) -> list[str]:
    """Every path matching `pattern`, sorted; `[]` when nothing matches.

    `cwd` is the absolute directory a relative pattern is taken from.
    Results keep the pattern's spelling: `*.txt` gives `a.txt`, `./*.txt`
    gives `./a.txt`, `/tmp/*.txt` gives `/tmp/a.txt`. A pattern ending in
    `/` matches directories only and its results end in `/`.

    Keywords, for the builtins: `dotglob` lets wildcards match dotfiles;
    `files`/`dirs` choose entry kinds; `max_depth` bounds how many
    directories below the walk root a result may sit (0 = directly in it);
    `ignore(abs_path, is_dir)` drops entries (and prunes directories) that
    wildcard or `**` segments would otherwise reach.
    """
    if not pattern:
        return []
    vfs = vfs if vfs is not None else _default_vfs()
    found: set[str] = set()
    for alternative in split_braces(pattern):
        found.update(
            _expand_one(alternative, cwd, vfs, dotglob, files, dirs, max_depth, ignore)
        )
    return sorted(found)


def _expand_one(
    pattern: str,
    cwd: str,
    vfs: Any,
    dotglob: bool,
    files: bool,
    dirs: bool,
    max_depth: int | None,
    ignore: Callable[[str, bool], bool] | None,
) -> list[str]:
    dir_only = pattern.endswith("/") and pattern.strip("/") != ""
    anchored = pattern.startswith("/")
    segments = [s for s in pattern.strip("/").split("/") if s]
    if not segments:
        return ["/"] if anchored and vfs.is_dir("/") else []
    collapsed: list[str] = []
    for s in segments:
        if s == "**" and collapsed and collapsed[-1] == "**":
            continue
        collapsed.append(s)
    segments = collapsed

    # The literal leading directories become the walk root; at least one
    # segment stays in the pattern so an all-literal path is still checked.
    split = 0
    while split < len(segments) - 1 and not is_glob_pattern(segments[split]) and segments[split] != "**":
        split += 1
    prefix_parts = [_unescape(s) for s in segments[:split]]
    prefix = "/".join(prefix_parts)
    if anchored:
        prefix = "/" + prefix
    root = posixpath.normpath(posixpath.join(cwd, prefix)) if prefix else cwd
    if prefix and not vfs.is_dir(root):
        return []

    walk = _Walk(vfs, dotglob, files and not dir_only, dirs or dir_only, max_depth, ignore)
    walk.walk(root, "", segments[split:], 0)

    out = []
    for rel in walk.found:
        if not prefix:
            path = rel
        elif prefix == "/":
            path = "/" + rel
        else:
            path = f"{prefix}/{rel}"
        out.append(path + "/" if dir_only else path)
    return out
