"""YAML writing for wfpsim: Python values in the scenario format.

wfpsim reads YAML with its own loader (libyaml underneath); this module
writes the subset that loader reads, deterministically: mappings keep their
insertion order, short mappings and lists of scalars are written in flow
style (``{name: f, action: block}``), everything else in block style. The
same text for the same data, on every platform, so saved scenarios can be
diffed and committed.

The scenario format is textual: ``443`` and ``"443"`` mean the same port.
Quoting matters in two places only, and this writer keeps both apart:
an unquoted ``empty`` is FWP_EMPTY (a quoted one is the text "empty"), and
an unquoted ``null``/``~``/nothing is null. Use :class:`Quoted` to force a
string to be quoted.
"""

from __future__ import annotations

import enum
import ipaddress
import math
import os
import re
import uuid
from typing import Any, List

__all__ = ["Quoted", "Typed", "dump", "to_yaml_value"]


class Quoted(str):
    """A string written quoted in YAML (``'empty'`` is the text, not FWP_EMPTY).

    :func:`wfpsim.yaml_load` returns quoted scalars as ``Quoted`` so that a
    loaded scenario is written back with the same meaning.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "Quoted(%s)" % str.__repr__(self)


class Typed:
    """An explicitly typed condition value: ``{type: FWP_UINT16, value: 80}``.

    ``Typed("FWP_UINT8", 6)`` puts a value of another type than the field's
    into a condition (to pin FWP_E_TYPE_MISMATCH, say), or types a value on a
    field outside the layer (net-event templates).
    """

    __slots__ = ("type", "value")

    def __init__(self, type: str, value: Any) -> None:
        self.type = type
        self.value = value

    def __repr__(self) -> str:
        return "Typed(%r, %r)" % (self.type, self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Typed) and (self.type, self.value) == (other.type, other.value)

    def __hash__(self) -> int:
        return hash((self.type, str(self.value)))


# Plain in block context: no leading indicator, no ": " or " #", no
# backslashes or spaces (paths are quoted: easier to read).
_PLAIN_BLOCK = re.compile(r"^[A-Za-z0-9_./+][A-Za-z0-9_./+:@-]*$")
# Plain in flow context: additionally no ':' (flow indicators , [ ] { } are
# already excluded).
_PLAIN_FLOW = re.compile(r"^[A-Za-z0-9_./+][A-Za-z0-9_./+@-]*$")
_NULLS = {"", "~", "null"}
_FLOW_WIDTH = 100


def to_yaml_value(v: Any) -> Any:
    """A Python value as the plain data the writer handles (str, int,
    float, bool, None, list, dict): ipaddress objects as text, networks as
    ``a/len``, UUIDs as ``{guid}``, bytes as ``hex:…``, ``range(a, b + 1)``
    as ``{low: a, high: b}``, :class:`Typed` as ``{type:, value:}``, objects
    with a ``__yaml__()`` method (``Condition``) as what it returns, named
    tuples as mappings, enums by value."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, enum.Enum):
        return to_yaml_value(v.value)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return v
    if isinstance(v, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(v)
    if isinstance(v, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return v.with_prefixlen
    if isinstance(v, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        return v.with_prefixlen
    if isinstance(v, uuid.UUID):
        return "{%s}" % v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "hex:" + bytes(v).hex()
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    if isinstance(v, range):
        if v.step != 1 or len(v) == 0:
            raise ValueError("a range condition needs range(low, high + 1) with step 1, not %r" % (v,))
        return {"low": v.start, "high": v.stop - 1}
    if isinstance(v, Typed):
        return {"type": v.type, "value": to_yaml_value(v.value)}
    if hasattr(v, "__yaml__"):
        return to_yaml_value(v.__yaml__())
    if hasattr(v, "_asdict"):
        return {k: to_yaml_value(x) for k, x in v._asdict().items()}
    if isinstance(v, dict):
        return {str(k): to_yaml_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_yaml_value(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return [to_yaml_value(x) for x in sorted(v, key=str)]
    raise TypeError("cannot write a %s in a scenario: %r" % (type(v).__name__, v))


def _quote(s: str) -> str:
    if all(c >= " " and c != "\x7f" for c in s):
        return "'" + s.replace("'", "''") + "'"
    out = ['"']
    for c in s:
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c < " " or c == "\x7f":
            out.append("\\x%02x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _scalar(v: Any, flow: bool) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        return repr(v)
    s = str(v)
    if isinstance(v, Quoted) or s.lower() in _NULLS:
        return _quote(s)
    plain = _PLAIN_FLOW if flow else _PLAIN_BLOCK
    if plain.match(s) and not s.endswith(":"):
        return s
    return _quote(s)


def _is_scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list))


def _flow(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (_scalar(k, True), _flow(x)) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar(v, True)


def _flowable(v: Any) -> bool:
    """A small mapping/list of scalars (or lists of scalars): one line."""
    if isinstance(v, dict):
        items = list(v.values())
    elif isinstance(v, list):
        items = v
    else:
        return True
    for x in items:
        if isinstance(x, dict):
            return False
        if isinstance(x, list) and not all(_is_scalar(y) for y in x):
            return False
    return len(_flow(v)) <= _FLOW_WIDTH


def _emit(v: Any, indent: int, out: List[str]) -> None:
    pad = " " * indent
    if isinstance(v, dict):
        if not v:
            out.append(pad + "{}")
            return
        for k, x in v.items():
            key = _scalar(k, False)
            if _is_scalar(x) or (not x) or _flowable(x):
                out.append("%s%s: %s" % (pad, key, _flow(x) if not _is_scalar(x) else _scalar(x, False)))
            else:
                out.append("%s%s:" % (pad, key))
                _emit(x, indent + 2, out)
        return
    if isinstance(v, list):
        if not v:
            out.append(pad + "[]")
            return
        for x in v:
            if _is_scalar(x):
                out.append("%s- %s" % (pad, _scalar(x, False)))
            elif not x or _flowable(x):
                out.append("%s- %s" % (pad, _flow(x)))
            else:
                sub: List[str] = []
                _emit(x, indent + 2, sub)
                # "- " takes the place of the first line's indentation
                out.append(pad + "- " + sub[0][indent + 2:])
                out.extend(sub[1:])
        return
    out.append(pad + _scalar(v, False))


def dump(data: Any) -> str:
    """YAML text for `data` (see :func:`to_yaml_value` for what it takes)."""
    out: List[str] = []
    _emit(to_yaml_value(data), 0, out)
    return "\n".join(out) + "\n"
