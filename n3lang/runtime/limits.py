"""Safety limits of one run: the step-and-time budget, the size of values, records created.

Everything here guards against runaway or hostile programs and inputs; none of it changes
what a program computes. A guard that trips raises :class:`GuardFailure` (``try`` does not
catch it) with code ``runtime-limit`` at the statement or expression that crossed the line.

**Determinism.** The time limit is a safety net: results never depend on it, except that a
run can stop (with a clear error) where a slower machine takes longer than the limit. Steps,
sizes and record counts are exact and machine-independent.

**Logical size.** Values are built immutably (a list or map is never changed after it is made),
so one list may hold another many times: ``let xs is list: 1`` and 40 times
``set xs is list: xs, xs`` costs 40 small lists but is a value of 2**40 items once printed,
stored or compared. :class:`SizeMeter` counts a value's *logical* size (every item reachable,
a shared sub-value counted each time it is reached) at each construction, in time proportional
to the new items only: the sizes of containers already measured are cached by ``id``, and the
cache keeps a reference to each container so that an ``id`` is never reused while cached.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from n3lang.ast import Span
from n3lang.runtime.errors import LIMIT_ERROR, GuardFailure


@dataclass(frozen=True)
class Limits:
    """Safety guards for one run (see the module docstring for what each protects)."""

    max_steps: int = 10_000_000
    max_call_depth: int = 64
    max_list_length: int = 1_000_000
    max_text_length: int = 10_000_000
    max_traces: int = 1000
    max_value_depth: int = 200
    #: items reachable in one value, a shared sub-value counted each time it is reached
    max_value_items: int = 2_000_000
    #: characters of text (and map keys) reachable in one value, counted the same way
    max_value_chars: int = 50_000_000
    #: wall-clock seconds for one run (None: no time limit); a safety net, see above
    max_seconds: float | None = 2.0
    #: records one run may create
    max_records_created: int = 100_000


#: how many steps run between two looks at the clock
CLOCK_EVERY = 4096


class Budget:
    """The step-and-time budget, and the per-run record count.

    The interpreter compares its step counter with ``checkpoint`` on every statement (one
    integer comparison, as before); only when it passes does :meth:`check` run, which raises
    if the step budget or the time limit is spent and otherwise sets the next checkpoint
    ``CLOCK_EVERY`` steps on."""

    def __init__(self, limits: Limits) -> None:
        self.max_steps = limits.max_steps
        self.max_seconds = limits.max_seconds
        self.max_records = limits.max_records_created
        self.started = time.monotonic()
        self.deadline = None if limits.max_seconds is None else self.started + limits.max_seconds
        self.records_created = 0
        self.checkpoint = min(self.max_steps, CLOCK_EVERY)

    def check(self, steps: int, span: Span) -> int:
        """Called when ``steps`` passed the checkpoint: raise, or return the next checkpoint."""
        if steps > self.max_steps:
            raise GuardFailure(
                LIMIT_ERROR, f"Step budget exceeded ({self.max_steps} steps).", span,
                why="The run executed more statements than its step budget allows; this guards "
                    "against loops that never end.",
            )
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise GuardFailure(
                LIMIT_ERROR, f"Time limit exceeded ({_seconds(self.max_seconds)} seconds).", span,
                why="The run took longer than its time limit; this guards against loops that never "
                    "end. The limit is a safety net: results never depend on it, but a long run "
                    "can stop here, and sooner on a slower machine.",
                fix="Make loops end sooner, or give the run more time: n3 run --time-limit 10.",
                example="repeat while count is less than 10 limit 100:\n  set count is count + 1",
            )
        self.checkpoint = min(self.max_steps, steps + CLOCK_EVERY)
        return self.checkpoint

    def record_created(self, record: str, span: Span) -> None:
        """Count one created record; raise past the per-run cap."""
        self.records_created += 1
        if self.records_created > self.max_records:
            raise GuardFailure(
                LIMIT_ERROR, f"Too many records created in one run (more than {self.max_records}).",
                span,
                why=f"This create would be record number {self.records_created} made by this run "
                    f"(this one of '{record}'); the cap guards against runs that fill the store "
                    f"without end.",
                fix="Create fewer records per run, for example in batches over several runs.",
                example='repeat up to 100 times:\n  create "Note" with map:\n    text is "x"\n  as note',
            )


def _seconds(value: float | None) -> str:
    text = f"{value:g}" if value is not None else "no"
    return text


# ----------------------------------------------------------------------------- value sizes
_LIST = list
_DICT = dict
#: a flat container shorter than this is measured again rather than cached
_SMALL = 64


class SizeMeter:
    """Logical sizes of values, cached per container, checked against the limits."""

    def __init__(self, limits: Limits) -> None:
        self.max_items = limits.max_value_items
        self.max_chars = limits.max_value_chars
        self._cache: dict[int, tuple[Any, int, int]] = {}
        self._purge_at = 4096

    # -- measuring
    def size(self, value: Any) -> tuple[int, int]:
        """(items, characters) reachable from ``value``; a scalar is (0, its text length)."""
        cls = value.__class__
        if cls is str:
            return 0, len(value)
        if cls is not _LIST and cls is not _DICT:
            return 0, 0
        hit = self._cache.get(id(value))
        if hit is not None:
            return hit[1], hit[2]
        return self._measure(value)

    def _measure(self, root: Any) -> tuple[int, int]:
        """Measure a container not in the cache, iteratively, reusing and filling the cache.
        Stops early (with sizes past the limit) once a part is already too large."""
        cache = self._cache
        stack: list[tuple[Any, bool]] = [(root, False)]
        items = chars = 0
        while stack:
            obj, ready = stack.pop()
            key = id(obj)
            if key in cache:
                continue
            is_list = obj.__class__ is _LIST
            children = obj if is_list else obj.values()
            if not ready:
                stack.append((obj, True))
                for c in children:
                    cc = c.__class__
                    if (cc is _LIST or cc is _DICT) and id(c) not in cache:
                        stack.append((c, False))
                continue
            items = len(obj)
            chars = 0 if is_list else sum(map(len, obj))
            for c in children:
                cc = c.__class__
                if cc is str:
                    chars += len(c)
                elif cc is _LIST or cc is _DICT:
                    hit = cache[id(c)]
                    items += hit[1]
                    chars += hit[2]
            cache[key] = (obj, items, chars)
            if items > self.max_items or chars > self.max_chars:
                break  # the whole is at least as large as this part
        self._maybe_purge()
        found = cache.get(id(root))
        return (found[1], found[2]) if found is not None else (items, chars)

    def _remember(self, value: Any, items: int, chars: int) -> None:
        self._cache[id(value)] = (value, items, chars)
        self._maybe_purge()

    def _maybe_purge(self) -> None:
        cache = self._cache
        if len(cache) < self._purge_at:
            return
        # a container only the cache still holds can never be reached again: forget it (its id
        # may then be reused by a new container, which is measured afresh)
        refcount = sys.getrefcount
        dead = [k for k, entry in cache.items() if refcount(entry[0]) <= 2]
        for k in dead:
            del cache[k]
        self._purge_at = max(4096, 2 * len(cache))

    # -- hooks called where a value grows
    def grew(self, value: Any, span: Span) -> Any:
        """Check a newly built list or map (whose items are values already made) and return it."""
        cls = value.__class__
        if cls is not _LIST and cls is not _DICT:
            return value
        is_list = cls is _LIST
        items = len(value)
        chars = 0 if is_list else sum(map(len, value))
        nested = False
        cache = self._cache
        for c in (value if is_list else value.values()):
            cc = c.__class__
            if cc is str:
                chars += len(c)
            elif cc is _LIST or cc is _DICT:
                nested = True
                hit = cache.get(id(c))
                if hit is None:
                    i, ch = self._measure(c)
                else:
                    i, ch = hit[1], hit[2]
                items += i
                chars += ch
        self.check(items, chars, span)
        if nested or items >= _SMALL:
            self._remember(value, items, chars)
        return value

    def appended(self, old: list, new: list, item: Any, span: Span) -> list:
        """``new`` is ``old`` plus ``item`` at the end: measured in O(1) when ``old`` is known."""
        items, chars = self.size(old)
        i, ch = self.size(item)
        items += 1 + i
        chars += ch
        self.check(items, chars, span)
        self._remember(new, items, chars)
        return new

    def map_set(self, old: dict, new: dict, key: str, span: Span) -> dict:
        """``new`` is ``old`` with ``key`` set: measured in O(1) when ``old`` is known."""
        items, chars = self.size(old)
        if key in old:
            i, ch = self.size(old[key])
            items -= i
            chars -= ch
        else:
            items += 1
            chars += len(key)
        i, ch = self.size(new[key])
        items += i
        chars += ch
        self.check(items, chars, span)
        self._remember(new, items, chars)
        return new

    def check(self, items: int, chars: int, span: Span) -> None:
        if items > self.max_items:
            raise GuardFailure(
                LIMIT_ERROR, f"The value is too large (more than {self.max_items} items, counting "
                             f"a list or map each time it appears inside another).", span,
                why="Lists and maps may hold one another many times over; printing, storing or "
                    "comparing such a value costs every item it reaches, so its size counts "
                    "all of them.",
                fix="Build smaller values: do not nest a list inside itself again and again.",
                example="let xs is list: 1, 2\nlet both is list: xs, xs",
            )
        if chars > self.max_chars:
            raise GuardFailure(
                LIMIT_ERROR, f"The value is too large (more than {self.max_chars} characters of "
                             f"text, counting a text each time it appears inside a list or map).",
                span,
                why="Printing or storing a value costs every character it reaches, shared texts "
                    "included.",
                fix="Build smaller values: do not repeat a long text many times in a list or map.",
                example="let xs is list: \"a\", \"b\"",
            )


# ----------------------------------------------------------------------------- numbers
#: integers up to this many digits are converted exactly; larger ones are clamped
_INT_DIGITS = 18
_BIG = 10 ** (_INT_DIGITS + 1)


def clamp_int(d: Decimal) -> int:
    """An integral Decimal as an int, exact up to 10**18; beyond that, ±10**19 (larger than
    any index, count or id the runtime can use), without the slow conversion of huge numbers
    and without ever building an int too long to print."""
    if d.adjusted() > _INT_DIGITS:
        return _BIG if d > 0 else -_BIG
    return int(d)


def output_problem(value: Any, depth_limit: int) -> str | None:
    """Why a flow's result or state cannot be given back, or None: nested more than
    ``depth_limit`` levels, or holding an integer too long for JSON readers. Each container is
    visited once, however often it is shared."""
    from n3lang.runtime.values import json_number_problem

    seen: set[tuple[int, int]] = set()
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        cls = v.__class__
        if cls is Decimal:
            problem = json_number_problem(v)
            if problem:
                return problem
            continue
        if cls is not _LIST and cls is not _DICT:
            continue
        if d > depth_limit:
            return f"is nested too deeply (more than {depth_limit} levels of lists and maps)"
        key = (id(v), d)
        if key in seen:
            continue
        seen.add(key)
        stack.extend((x, d + 1) for x in (v if cls is _LIST else v.values()))
    return None
