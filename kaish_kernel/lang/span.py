"""Source spans: where a token or syntax node came from.

Offsets are `str` indices into the source the parser was given (not bytes),
half-open `[start, end)`. Line and column are derived on demand by
`kaish_kernel.errors.position_of`, so spans stay two small ints.
"""

from __future__ import annotations

from kaish_kernel.records import record

__all__ = ["NO_SPAN", "Span"]


@record
class Span:
    start: int
    end: int

    def to(self, other: Span) -> Span:
        """The span covering `self` through `other`."""
        return Span(min(self.start, other.start), max(self.end, other.end))

    def text(self, source: str) -> str:
        return source[self.start : self.end]


NO_SPAN = Span(0, 0)
