"""Maven version ordering (``org.apache.maven.artifact.versioning.ComparableVersion``, 3.9).

Maven parses a version into a tree of items: ``.`` separates items, ``-`` opens a sub-list, and
a switch between letters and digits separates too (``1.0alpha1`` → ``1.0-alpha-1``). Numbers
compare numerically within Maven's three number kinds (int, long, BigInteger by digit count). Words are qualifiers: ``alpha`` (``a`` before a digit) < ``beta`` (``b``) <
``milestone`` (``m``) < ``rc`` = ``cr`` < ``snapshot`` < ``""`` = ``ga`` = ``final`` = ``release`` <
``sp``, and unknown qualifiers come after all of them in lexical order, case-insensitively.
Across kinds a number is newer than a sub-list, which is newer than a word. Trailing "null"
items (0, release qualifiers, empty lists) are trimmed, so ``1.0.0`` == ``1`` and ``1-ga`` == ``1``.
When one list is shorter, each remaining item is compared with "nothing" (0 / release).

These padding rules are not a lexicographic order on any flat encoding (``1-sp`` > ``1`` but
``1-rc`` < ``1``, ``1.1`` > ``1-1``), so the key wraps the parsed tree in an object that compares
with Maven's own recursive algorithm. Every string is a valid Maven version.
"""

from __future__ import annotations

from functools import lru_cache, total_ordering

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE_INDEX = str(_QUALIFIERS.index(""))

# Item kinds, as tagged tuples: (INT, n) | (STR, comparable qualifier) | (LIST, (items…)).
INT, STR, LIST = 0, 1, 2
Item = tuple[int, object]


def _comparable_qualifier(q: str) -> str:
    if q in _QUALIFIERS:
        return str(_QUALIFIERS.index(q))
    return f"{len(_QUALIFIERS)}-{q}"


def _string_item(value: str, followed_by_digit: bool) -> Item:
    if followed_by_digit and len(value) == 1:
        value = {"a": "alpha", "b": "beta", "m": "milestone"}.get(value, value)
    value = _ALIASES.get(value, value)
    return (STR, _comparable_qualifier(value))


_ZERO: Item = (INT, (0, 0))


def _parse_item(is_digit: bool, buf: str) -> Item:
    if is_digit:
        # Maven keeps a number in an int (up to 9 digits), a long (18) or a BigInteger, counted
        # after stripping leading zeros (an all-zero run is kept whole), and orders the three
        # kinds before their values: ``0000000000`` is a long 0, newer than the int 22.
        digits = buf.lstrip("0") or buf or "0"
        size = 0 if len(digits) <= 9 else 1 if len(digits) <= 18 else 2
        return (INT, (size, int(digits)))
    return _string_item(buf, False)


def _is_null(item: object) -> bool:
    if isinstance(item, _List):
        return not item.items
    tagged: Item = item  # type: ignore[assignment]
    if tagged[0] == INT:
        return bool(tagged[1][1] == 0)  # type: ignore[index]
    return bool(tagged[1] == _RELEASE_INDEX)


def _normalize(items: list[object]) -> None:
    """Drop trailing null items (0, release qualifier, empty list), stopping at a non-list item."""
    for i in range(len(items) - 1, -1, -1):
        if _is_null(items[i]):
            del items[i]
        elif not isinstance(items[i], _List):
            break


class _List:
    """A mutable list during parsing (frozen into tuples afterwards)."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[object] = []


def _freeze(lst: _List) -> tuple[Item, ...]:
    out: list[Item] = []
    for it in lst.items:
        out.append((LIST, _freeze(it)) if isinstance(it, _List) else it)  # type: ignore[arg-type]
    return tuple(out)


def parse(version: str) -> tuple[Item, ...]:
    """The item tree of ``version``, as ``ComparableVersion.parseVersion`` builds it."""
    v = version.lower()
    root = _List()
    lst = root
    stack: list[_List] = [root]
    is_digit = False
    start = 0

    def push_list() -> _List:
        new = _List()
        lst.items.append(new)
        stack.append(new)
        return new

    for i, c in enumerate(v):
        if c == ".":
            lst.items.append(_ZERO if i == start else _parse_item(is_digit, v[start:i]))
            start = i + 1
        elif c == "-":
            lst.items.append(_ZERO if i == start else _parse_item(is_digit, v[start:i]))
            start = i + 1
            lst = push_list()
        elif c.isdecimal():
            if not is_digit and i > start:
                if lst.items:
                    lst = push_list()
                lst.items.append(_string_item(v[start:i], True))
                start = i
                lst = push_list()
            is_digit = True
        else:
            if is_digit and i > start:
                lst.items.append(_parse_item(True, v[start:i]))
                start = i
                lst = push_list()
            is_digit = False
    if len(v) > start:
        if not is_digit and lst.items:
            lst = push_list()
        lst.items.append(_parse_item(is_digit, v[start:]))
    # Normalise innermost lists first, as Maven pops its stack.
    for frame in reversed(stack):
        _normalize(frame.items)
    return _freeze(root)


def _cmp_item(a: Item | None, b: Item | None) -> int:
    """``a.compareTo(b)`` where ``None`` is Maven's missing item; ``a`` is never None."""
    assert a is not None
    kind, value = a
    if kind == INT:
        if b is None:
            return 0 if value[1] == 0 else 1  # type: ignore[index]
        if b[0] == INT:
            return (value > b[1]) - (value < b[1])  # type: ignore[operator]
        return 1
    if kind == STR:
        if b is None:
            return (value > _RELEASE_INDEX) - (value < _RELEASE_INDEX)  # type: ignore[operator]
        if b[0] == STR:
            return (value > b[1]) - (value < b[1])  # type: ignore[operator]
        return -1
    items: tuple[Item, ...] = value  # type: ignore[assignment]
    if b is None:
        for it in items:
            r = _cmp_item(it, None)
            if r:
                return r
        return 0
    if b[0] == INT:
        return -1
    if b[0] == STR:
        return 1
    return _cmp_lists(items, b[1])  # type: ignore[arg-type]


def _cmp_lists(left: tuple[Item, ...], right: tuple[Item, ...]) -> int:
    for i in range(max(len(left), len(right))):
        l_item = left[i] if i < len(left) else None
        r_item = right[i] if i < len(right) else None
        if l_item is None:
            result = 0 if r_item is None else -_cmp_item(r_item, None)
        else:
            result = _cmp_item(l_item, r_item)
        if result:
            return result
    return 0


@total_ordering
class MavenKey:
    """Sort key of a Maven version: compares with ``ComparableVersion.compareTo``."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[Item, ...]) -> None:
        self.items = items

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MavenKey):
            return NotImplemented
        return _cmp_lists(self.items, other.items) == 0

    def __lt__(self, other: MavenKey) -> bool:
        return _cmp_lists(self.items, other.items) < 0

    __hash__ = None  # type: ignore[assignment]  # equal keys may be different trees

    def __repr__(self) -> str:
        return f"MavenKey({self.items!r})"


@lru_cache(maxsize=1 << 16)
def key(version: str) -> MavenKey:
    """The comparison key of ``version``."""
    return MavenKey(parse(version))


def is_valid(version: str) -> bool:
    """True: ComparableVersion accepts every string (``""`` equals ``0``, `` 1`` is the word `` ``
    followed by 1), so Maven has no invalid version and neither has mamori."""
    return True


def normalize(version: str) -> str:
    """Surrounding whitespace stripped."""
    return version.strip()
