"""The awk runtime: the state of one run, and the BEGIN / records / END driver.

    Program ──Compiler──► closures (once)          Machine (state)
                            BEGIN blocks  ─┐        vars, arrays, $0 / fields (split lazily),
    records (batches) ──► rules per record ├──────► NR FNR NF, output buffer ─► sink(text)
                            END blocks    ─┘

The compiler (`_awk_compile`) builds the closures; control flow (`next`,
`exit`) reaches the driver as exceptions. Fields are split only when a rule looks at them, with the FS in force when
the record was read. Output collects in a buffer handed to `sink` in
~64 KiB pieces (and at every input batch, so a slow pipe still streams).
`Machine.stop` is polled per record and per loop iteration: setting it
from another thread ends the run with `Stopped`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from kaish_kernel.tools.builtins._awk_ast import (
    Program,
)
from kaish_kernel.tools.builtins._awk_builtins import (
    AwkError,
    splitter_for,
)
from kaish_kernel.tools.builtins._awk_compile import (
    Action,
    Compiler,
    ExitProgram,
    NextRecord,
    Stopped,
)
from kaish_kernel.tools.builtins._awk_value import (
    Value,
    format_number,
    to_num,
    to_str,
)

__all__ = ["AwkError", "Machine", "Stopped"]

OUTPUT_BATCH: Final = 64 * 1024
MAX_FIELDS: Final = 1_000_000  # a typo like `$1e9 = x` must not allocate a billion fields

_DEFAULTS: Final[dict[str, Value]] = {
    "FS": " ", "OFS": " ", "ORS": "\n", "RS": "\n", "CONVFMT": "%.6g", "OFMT": "%.6g",
    "RSTART": 0.0, "RLENGTH": -1.0, "FILENAME": "",
}


class Machine:
    """The state of one awk run, and the driver for BEGIN / records / END."""

    def __init__(self, program: Program, sink: Callable[[str], None]) -> None:
        self.program = program
        self.sink = sink
        self.vars: dict[str, Value] = dict(_DEFAULTS)
        self.arrays: dict[str, dict[str, Value]] = {name: {} for name in program.arrays}
        self.record: str = ""
        self.fields: list[Value] | None = []
        self.nf = 0
        self.nr = 0
        self.fnr = 0
        self.record_fs = " "
        self._fs_text = " "  # FS, OFS and ORS as text, kept current by assign()
        self.ofs_text = " "
        self.ors_text = "\n"
        self._splitter: Callable[[str], list[str]] = str.split
        self._splitter_fs = " "
        self.paragraph_mode = False
        self.convfmt = "%.6g"
        self.ofmt = "%.6g"
        self.stop = False
        self.exit_status = 0
        self._out: list[str] = []
        self._out_size = 0
        compiler = Compiler(self)
        self._begin = [compiler.block(b) for b in program.begin]
        self._rules = [compiler.rule(r) for r in program.rules]
        self._end = [compiler.block(b) for b in program.end]

    @property
    def reads_input(self) -> bool:
        """A program with only BEGIN blocks never reads its input."""
        return bool(self._rules or self._end)

    # -- variables --
    def assign(self, name: str, value: Value) -> None:
        """Set a variable, honouring the special ones (NF, NR, CONVFMT, ...)."""
        if name == "NF":
            self.set_nf(value)
        elif name == "NR":
            self.nr = int(to_num(value))
        elif name == "FNR":
            self.fnr = int(to_num(value))
        else:
            self.vars[name] = value
            if name == "FS":
                self._fs_text = to_str(value, self.convfmt)
            elif name == "OFS":
                self.ofs_text = to_str(value, self.convfmt)
            elif name == "ORS":
                self.ors_text = to_str(value, self.convfmt)
            elif name == "CONVFMT":
                self.convfmt = to_str(value)
            elif name == "OFMT":
                self.ofmt = to_str(value)

    # -- records and fields --
    def next_record(self, text: str) -> None:
        self.nr += 1
        self.fnr += 1
        self.record = text
        self.fields = None
        self.record_fs = self._fs_text

    def split(self) -> list[Value]:
        text = self.record
        if self.record_fs is not self._splitter_fs:
            self._splitter = splitter_for(self.record_fs)
            self._splitter_fs = self.record_fs
        split = self._splitter
        if self.paragraph_mode and self.record_fs != " ":
            parts = [part for line in text.split("\n") for part in split(line)]
        else:
            parts = split(text)
        fields: list[Value] = parts  # type: ignore[assignment]
        self.fields = fields
        self.nf = len(fields)
        return fields

    def get_nf(self) -> int:
        if self.fields is None:
            self.split()
        return self.nf

    def get_field(self, index: int) -> Value:
        if index == 0:
            return self.record
        fields = self.fields
        if fields is None:
            fields = self.split()
        if 0 < index <= len(fields):
            return fields[index - 1]
        if index < 0:
            raise AwkError(f"attempt to access field {index}")
        return ""

    def set_field(self, index: int, value: Value) -> None:
        if index == 0:
            self.record = str(to_str(value, self.convfmt))
            self.fields = None
            self.record_fs = self._fs_text
            return
        if index < 0:
            raise AwkError(f"attempt to access field {index}")
        if index > MAX_FIELDS:
            raise AwkError(f"field index {index} is too large (at most {MAX_FIELDS})")
        fields = self.fields if self.fields is not None else self.split()
        if index > len(fields):
            fields.extend([""] * (index - len(fields)))
            self.nf = index
        # Fields hold text: a number becomes its CONVFMT string (a numeric
        # string, so it still compares as a number), which also keeps the
        # rebuild of $0 a plain join.
        fields[index - 1] = value if isinstance(value, str) else to_str(value, self.convfmt)
        self._rebuild()

    def set_nf(self, value: Value) -> None:
        count = int(to_num(value))
        if not 0 <= count <= MAX_FIELDS:
            raise AwkError(f"NF set to {count} (allowed: 0 to {MAX_FIELDS})")
        fields = self.fields if self.fields is not None else self.split()
        if count < len(fields):
            del fields[count:]
        else:
            fields.extend([""] * (count - len(fields)))
        self.nf = count
        self._rebuild()

    def _rebuild(self) -> None:
        assert self.fields is not None
        self.record = self.ofs_text.join(self.fields)  # type: ignore[arg-type]

    # -- output --
    def emit(self, text: str) -> None:
        self._out.append(text)
        self._out_size += len(text)
        if self._out_size >= OUTPUT_BATCH:
            self.flush()

    def flush(self) -> None:
        if self._out:
            data = "".join(self._out)
            self._out.clear()
            self._out_size = 0
            self.sink(data)

    def output_text(self, value: Value) -> str:
        """A value as `print` writes it (numbers through OFMT)."""
        if type(value) is float:
            return format_number(value, self.ofmt)
        return to_str(value, self.convfmt)

    # -- the run --
    def run(self, batches: Callable[[Machine], Iterable[list[str]]]) -> int:
        """BEGIN, every record `batches` yields, END. Returns the exit status.

        Output produced before a runtime error is still handed to the sink.
        """
        try:
            return self._run(batches)
        except AwkError:
            self.flush()
            raise

    def _run(self, batches: Callable[[Machine], Iterable[list[str]]]) -> int:
        exiting = self._run_blocks(self._begin)
        if not exiting and self.reads_input:
            source = batches(self)
            try:
                for batch in source:
                    if not self._process(batch):
                        break
                    self.flush()
            finally:
                close = getattr(source, "close", None)
                if close is not None:
                    close()
        self._run_blocks(self._end)
        self.flush()
        return self.exit_status

    def _run_blocks(self, blocks: list[Action]) -> bool:
        """Run BEGIN or END blocks; True when one of them ran `exit`."""
        try:
            for block in blocks:
                block()
        except ExitProgram as exc:
            if exc.status is not None:
                self.exit_status = exc.status
            return True
        return False

    def _process(self, records: list[str]) -> bool:
        """Run the rules over each record; False once `exit` ran."""
        rules = self._rules
        for text in records:
            if self.stop:
                raise Stopped
            self.nr += 1
            self.fnr += 1
            self.record = text
            self.fields = None
            self.record_fs = self._fs_text
            try:
                for rule in rules:
                    rule()
            except NextRecord:
                continue
            except ExitProgram as exc:
                if exc.status is not None:
                    self.exit_status = exc.status
                return False
        return True
