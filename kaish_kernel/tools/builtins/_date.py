"""`date`: show a moment in time, now or described by `-d`, `-r FILE` or `@EPOCH`.

    which moment            which zone                 which text
    -r FILE (mtime)         -u  > --tz ZONE > $TZ      +FORMAT (strftime, GNU %N, %:z)
    -d "2 days ago"           > local time             -R  RFC 2822
    @1700000000                                        --rfc-3339 date|seconds|ns
    now (default)                                      -I  ISO 8601 date
                                                       default  %Y-%m-%d %H:%M:%S
                                                       --json   a record of every field

`-d` understands a deliberate subset and refuses everything else loudly:
`now`/`today`/`yesterday`/`tomorrow`, `@N`, `next|last WEEKDAY`, an absolute
date (`2026-06-01`, `2026-06-01 09:30[:00]`, `2026-06-01T09:30[:00]`, RFC 3339)
optionally followed by offsets (`[in] N unit ... [ago]`, units second, minute,
hour, day, week, month, year and their short forms). Errors exit 2, as in kaish.
"""

from __future__ import annotations

import calendar
import email.utils
import time
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final

from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.schema import Param, Schema
from kaish_kernel.values import display

__all__ = ["Date", "DateError", "now_utc", "parse_date_string", "strftime"]


class DateError(Exception):
    """A date string, zone or format that `date` will not guess at."""


def now_utc() -> datetime:
    """The wall clock; tests replace this to pin "now"."""
    return datetime.now(UTC)


# -- zones -------------------------------------------------------------------


class _Local:
    """The host's local time, DST-aware: wall-clock math happens naive, then is localized."""


LOCAL: Final = _Local()
Zone = tzinfo | _Local


def _zone(ctx: ToolContext) -> Zone:
    if ctx.args.flag("utc"):
        return UTC
    name = ctx.args.get("tz")
    if name is None and ctx.shell.has_var("TZ"):
        name = display(ctx.shell.get_var("TZ")) or None
    if not name:
        return LOCAL
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise DateError(f"unknown timezone '{name}' (use an IANA name like Asia/Tokyo)") from None


def _in_zone(moment: datetime, zone: Zone) -> datetime:
    return moment.astimezone() if isinstance(zone, _Local) else moment.astimezone(zone)


def _localize(naive: datetime, zone: Zone) -> datetime:
    if isinstance(zone, _Local):
        return naive.astimezone()  # naive is read as local time, DST included
    return naive.replace(tzinfo=zone)


# -- `-d` parsing ------------------------------------------------------------

_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2,
    "wednesday": 2, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip
_SECONDS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600}
_DAYS = {"day": 1, "week": 7, "wk": 7}
_MONTHS = {"month": 1, "mon": 1, "year": 12, "yr": 12}


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise DateError("resulting time is out of range")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _shift(moment: datetime, amount: int, unit: str, zone: Zone) -> datetime:
    """Sub-day units are elapsed time; days and up keep the wall clock across DST."""
    unit = unit.removesuffix("s") if unit not in _SECONDS else unit
    try:
        if unit in _SECONDS:
            return _in_zone(moment + timedelta(seconds=amount * _SECONDS[unit]), zone)
        naive = moment.replace(tzinfo=None)
        if unit in _DAYS:
            naive += timedelta(days=amount * _DAYS[unit])
        elif unit in _MONTHS:
            naive = _add_months(naive, amount * _MONTHS[unit])
        else:
            raise DateError(f"unknown unit '{unit}'")
    except OverflowError:
        raise DateError("resulting time is out of range") from None
    return _localize(naive, zone)


def _absolute_prefix(tokens: list[str], zone: Zone) -> tuple[datetime, int] | None:
    if len(tokens) >= 2:
        joined = f"{tokens[0]} {tokens[1]}"
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                return _localize(datetime.strptime(joined, fmt), zone), 2
            except ValueError:
                pass
    head = tokens[0]
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return _localize(datetime.strptime(head, fmt), zone), 1
        except ValueError:
            pass
    if "T" in head or "t" in head:
        try:
            parsed = datetime.fromisoformat(head.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            return _in_zone(parsed, zone), 1
    return None


def _offsets(tokens: list[str], base: datetime, zone: Zone) -> datetime:
    terms = [t.lower() for t in tokens]
    if terms and terms[0] == "in":
        terms = terms[1:]
    ago = bool(terms) and terms[-1] == "ago"
    if ago:
        terms = terms[:-1]
    if not terms or len(terms) % 2:
        raise ValueError("malformed")
    moment = base
    for i in range(0, len(terms), 2):
        amount = int(terms[i])
        moment = _shift(moment, -amount if ago else amount, terms[i + 1], zone)
    return moment


def parse_date_string(spec: str, zone: Zone, now: datetime) -> datetime:
    """The moment `spec` describes, as an aware datetime in `zone`."""
    text = spec.strip()
    if not text:
        raise DateError("empty --date string")
    if text.startswith("@"):
        try:
            seconds = int(text[1:].strip())
            return _in_zone(datetime.fromtimestamp(seconds, UTC), zone)
        except ValueError:
            raise DateError(f"invalid epoch timestamp '{text}'") from None
        except (OverflowError, OSError):
            raise DateError(f"epoch timestamp out of range '{text}'") from None
    base = _in_zone(now, zone)
    lower = text.lower()
    if lower in ("now", "today"):
        return base
    if lower in ("yesterday", "tomorrow"):
        return _shift(base, -1 if lower == "yesterday" else 1, "day", zone)
    words = lower.split()
    if len(words) == 2 and words[0] in ("next", "last") and words[1] in _WEEKDAYS:
        goal, today = _WEEKDAYS[words[1]], base.weekday()
        if words[0] == "next":
            days = (goal - today) % 7 or 7
        else:
            days = -((today - goal) % 7 or 7)
        shifted = _shift(base, days, "day", zone)
        return _localize(shifted.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0), zone)
    tokens = text.split()
    found = _absolute_prefix(tokens, zone)
    anchor, used = found if found else (base, 0)
    rest = tokens[used:]
    if not rest:
        if used:
            return anchor
        raise DateError(f"cannot parse date string '{text}'")
    try:
        return _offsets(rest, anchor, zone)
    except (ValueError, DateError):
        raise DateError(f"cannot parse date string '{text}'") from None


# -- formatting --------------------------------------------------------------

# Specifiers handed to the C library one at a time (all GNU date knows, less
# the ones handled here); anything else is refused rather than printed raw.
_PLAIN = frozenset("aAbBcCdDeFgGhHIjklmMnprRStTuUVwWxXyYzZ")
_PAD_FLAGS = frozenset("-_0^#")


def _colon_z(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}"


def strftime(moment: datetime, fmt: str) -> str:
    """GNU-style strftime: adds %N/%3N/%6N/%9N (nanoseconds), %:z, %s and %P."""
    out: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        j = i + 1
        flags = ""
        while j < n and fmt[j] in _PAD_FLAGS:
            flags += fmt[j]
            j += 1
        digits = ""
        while j < n and fmt[j].isdigit():
            digits += fmt[j]
            j += 1
        if j < n and fmt[j] == ":" and j + 1 < n and fmt[j + 1] == "z":
            out.append(_colon_z(moment))
            i = j + 2
            continue
        if j >= n:
            raise DateError(f"unknown format specifier in '{fmt}'")
        spec = fmt[j]
        i = j + 1
        if spec == "%":
            out.append("%")
        elif spec == "N":
            nanos = f"{moment.microsecond * 1000:09d}"
            out.append(nanos[: int(digits)] if digits else nanos)
        elif spec == "s":
            out.append(str(int(moment.timestamp())))
        elif spec == "P":
            out.append(moment.strftime("%p").lower())
        elif spec in _PLAIN and not digits:
            out.append(moment.strftime(f"%{flags}{spec}"))
        else:
            raise DateError(f"unknown format specifier in '{fmt}'")
    return "".join(out)


_ISO8601 = {
    "date": "%Y-%m-%d",
    "hours": "%Y-%m-%dT%H%:z",
    "minutes": "%Y-%m-%dT%H:%M%:z",
    "seconds": "%Y-%m-%dT%H:%M:%S%:z",
    "ns": "%Y-%m-%dT%H:%M:%S,%N%:z",
}
_RFC3339 = {"date": "%Y-%m-%d", "seconds": "%Y-%m-%d %H:%M:%S%:z", "ns": "%Y-%m-%d %H:%M:%S.%N%:z"}


def _record(moment: datetime) -> dict[str, object]:
    offset = moment.utcoffset() or timedelta(0)
    return {
        "iso": moment.replace(microsecond=0).isoformat(),
        "epoch": int(moment.timestamp()),
        "utc": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "weekday": moment.strftime("%A"),
        "tz": _colon_z(moment),
        "offset_seconds": int(offset.total_seconds()),
    }


class Date(Tool):
    schema = Schema(
        name="date",
        summary="Display the date and time",
        params=(
            Param("utc", short="u", help="Use UTC instead of local time."),
            Param("date", type="str", short="d", metavar="STRING", help='Show the time STRING describes ("yesterday", "2 days ago", "@1700000000").'),
            Param("reference", type="str", short="r", metavar="FILE", help="Show FILE's last-modified time."),
            Param("tz", type="str", metavar="ZONE", help="Render in this IANA zone (e.g. Asia/Tokyo); -u wins."),
            Param("iso-date", short="I", help="ISO 8601 date (YYYY-MM-DD); same as --iso-8601=date."),
            Param("iso-8601", type="str", metavar="FMT", help="ISO 8601 form; FMT is date, hours, minutes, seconds or ns."),
            Param("rfc-2822", short="R", help="RFC 2822 form (Tue, 14 Nov 2023 22:13:20 +0000)."),
            Param("rfc-3339", type="str", metavar="FMT", help="RFC 3339 form; FMT is date, seconds or ns."),
            Param("operands", type="any", positional=True, variadic=True, help="+FORMAT (strftime) and/or @EPOCH."),
        ),
        usage="date [OPTIONS] [+FORMAT] [@EPOCH]",
        description=(
            "FORMAT uses strftime specifiers plus %N (nanoseconds; %3N milliseconds), %:z and %s.\n"
            "An unknown specifier is an error, not literal text. The zone is -u, else --tz,\n"
            "else $TZ, else local time."
        ),
        examples=(
            ("Now", "date"),
            ("Epoch seconds", "date +%s"),
            ("ISO date in UTC", "date -u -I"),
            ("Relative", 'date -d "2 days ago"'),
            ("Decode an epoch", "date -u @1700000000"),
        ),
        json_output=True,
        category="basic",
    )

    async def run(self, ctx: ToolContext) -> int:
        try:
            moment, text = self._render(ctx)
        except DateError as exc:
            return ctx.error(str(exc), 2)
        if ctx.args.json:
            await ctx.emit_value(_record(moment))
            return 0
        try:
            await ctx.stdout.write((text + "\n").encode())
        except BrokenPipeError:
            pass
        return 0

    def _render(self, ctx: ToolContext) -> tuple[datetime, str]:
        args = ctx.args
        if args.get("date") is not None and args.get("reference") is not None:
            raise DateError("cannot combine --date and --reference")
        zone = _zone(ctx)
        fmt: str | None = None
        epoch: str | None = None
        for operand in args.positional:
            word = display(operand)
            if word.startswith("+"):
                fmt = word[1:] if fmt is None else fmt
            elif word.startswith("@"):
                epoch = word
            else:
                raise DateError(f"unrecognized operand '{word}' (did you mean -d \"{word}\"?)")
        now = now_utc()
        if args.get("reference") is not None:
            moment = self._mtime(ctx, display(args.get("reference")), zone)
        elif args.get("date") is not None:
            moment = parse_date_string(display(args.get("date")), zone, now)
        elif epoch is not None:
            moment = parse_date_string(epoch, zone, now)
        else:
            moment = _in_zone(now, zone)
        if fmt is not None:
            return moment, strftime(moment, fmt)
        if args.flag("rfc-2822"):
            return moment, email.utils.format_datetime(moment)
        rfc3339 = args.get("rfc-3339")
        if rfc3339 is not None:
            pattern = _RFC3339.get(display(rfc3339))
            if pattern is None:
                raise DateError(f"invalid argument '{display(rfc3339)}' for --rfc-3339 (date|seconds|ns)")
            return moment, strftime(moment, pattern)
        iso = args.get("iso-8601")
        if iso is not None:
            pattern = _ISO8601.get(display(iso))
            if pattern is None:
                raise DateError(
                    f"invalid argument '{display(iso)}' for --iso-8601 (date|hours|minutes|seconds|ns)"
                )
            return moment, strftime(moment, pattern)
        if args.flag("iso-date"):
            return moment, moment.strftime("%Y-%m-%d")
        return moment, moment.strftime("%Y-%m-%d %H:%M:%S")

    @staticmethod
    def _mtime(ctx: ToolContext, name: str, zone: Zone) -> datetime:
        try:
            info = ctx.shell.vfs.stat(ctx.shell.resolve_path(name))
        except OSError as exc:
            raise DateError(f"{name}: {exc.strerror or exc}") from None
        return _in_zone(datetime.fromtimestamp(info.mtime or time.time(), UTC), zone)


TOOLS = (Date,)
