"""wfpsim — the Windows Filtering Platform simulator, from Python.

A thin layer over the C engine (``wfpsim._wfpsim``): an :class:`Engine`
holds providers, sublayers, callouts and filters added through
:class:`Session` objects, classifies with Windows' full arbitration, and
runs Python functions as callouts; :class:`Scenario` loads, builds, saves
and runs scenario files; :func:`replay` runs a capture through a simulated
host. Errors are :class:`WfpError` subclasses carrying the WFP result code
(``.code``) and its name (``.name``).

Example::

    import wfpsim

    with wfpsim.Engine() as engine, engine.session() as s:
        s.add_filter("block-https", "ALE_AUTH_CONNECT_V4", "block",
                     conditions=[wfpsim.Condition("IP_REMOTE_PORT", "equal", 443)])
        v = engine.classify("ALE_AUTH_CONNECT_V4", {"IP_REMOTE_PORT": 443})
        assert v.action == "block" and v.filter == "block-https"

Values follow the field's type in the layer, as in scenario files
(docs/scenario-format.md): ints, ``ipaddress`` addresses and networks,
``range(lo, hi + 1)`` or ``(lo, hi)`` for ranges, Windows paths for
ALE_APP_ID, SIDs and SDDL strings, flag names, bytes, ``None`` for
FWP_EMPTY. See docs/python.md for a tutorial.
"""

from __future__ import annotations

import contextlib
import copy
import enum
import ipaddress
import os
import shutil
import tempfile
import uuid
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Union

from . import _wfpsim
from ._wfpsim import (  # noqa: F401  (re-exports)
    RESULT_CODES,
    VERDICT_REASONS,
    AccessDeniedError,
    AlreadyExistsError,
    Callout,
    CalloutError,
    Change,
    ClassifyOut,
    EngineStats,
    Field,
    Filter,
    FilterStep,
    InUseError,
    InvalidParameterError,
    Layer,
    LayerStats,
    LimitError,
    LockTimeoutError,
    NetEvent,
    NotAvailableError,
    NotFoundError,
    OutOfMemoryError,
    PacketRecord,
    PolicyError,
    Provider,
    ScenarioError,
    ScenarioFile,
    ScenarioResult,
    ScenarioNetEvent,
    Notification,
    ExpectationOutcome,
    SessionError,
    Sublayer,
    SublayerDecision,
    TransactionError,
    TypeMismatchError,
    Verdict,
    WfpError,
    access_check,
    app_id,
    builtin_sublayers,
    condition_fields,
    error_for,
    format_app_id,
    format_sd,
    format_sid,
    guid_from_name,
    layer,
    layers,
    parse_guid,
    parse_sddl,
    parse_sid,
    policy_file,
    result_code,
    result_message,
    result_name,
    token,
    yaml_load,
)
from ._yaml import Quoted, Typed, dump as yaml_dump, to_yaml_value

__version__ = "0.1.0"

__all__ = [
    "Engine", "Session", "Subscription", "Condition", "Typed", "Quoted", "Scenario", "replay",
    "Verdict", "SublayerDecision", "FilterStep", "Change", "NetEvent", "Provider", "Sublayer", "Callout",
    "Filter", "Layer", "Field", "EngineStats", "LayerStats", "PacketRecord", "ScenarioResult", "ClassifyOut",
    "ScenarioNetEvent", "Notification", "ExpectationOutcome",
    "WfpError", "NotFoundError", "AlreadyExistsError", "InUseError", "AccessDeniedError", "SessionError",
    "TransactionError", "LockTimeoutError", "TypeMismatchError", "InvalidParameterError", "LimitError",
    "NotAvailableError", "OutOfMemoryError", "CalloutError", "PolicyError", "ScenarioError",
    "RESULT_CODES", "VERDICT_REASONS", "error_for", "error_class", "result_name", "result_message", "result_code",
    "layers", "layer", "condition_fields", "builtin_sublayers", "guid_from_name", "parse_guid", "parse_sid",
    "format_sid", "parse_sddl", "format_sd", "app_id", "format_app_id", "token", "access_check",
    "yaml_load", "yaml_dump", "policy_file",
    "PROVIDER", "SUBLAYER", "CALLOUT", "FILTER",
]

# Object kinds (also the FWPM object types of subscriptions and security).
PROVIDER, SUBLAYER, CALLOUT, FILTER = 0, 1, 2, 3

# A few WFP constants a Python callout or a test wants by name (wfp_types.h).
FWP_ACTION_BLOCK = 0x1001
FWP_ACTION_PERMIT = 0x1002
FWP_ACTION_CONTINUE = 0x2006
FWPS_RIGHT_ACTION_WRITE = 0x1
FWPS_CLASSIFY_OUT_FLAG_ABSORB = 0x1
FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT = 0x1
FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT = 0x8
FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_ADD = 0x1
FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_DELETE = 0x2


def error_class(code: int) -> type:
    """The exception class the binding raises for a result code."""
    return type(error_for(code))


# ---- values -------------------------------------------------------------------


def _condition_value(v: Any) -> Any:
    """A condition value in the scenario format: a 2-tuple is a range."""
    if isinstance(v, tuple) and len(v) == 2 and not hasattr(v, "_asdict"):
        return {"low": to_yaml_value(v[0]), "high": to_yaml_value(v[1])}
    if isinstance(v, (list, set, frozenset)):
        return [_condition_value(x) for x in (sorted(v, key=str) if isinstance(v, (set, frozenset)) else v)]
    if v is None:
        return "empty"  # plain: FWP_EMPTY
    if isinstance(v, bool):
        return int(v)
    return to_yaml_value(v)


class Condition(NamedTuple):
    """A filter condition (FWPM_FILTER_CONDITION0).

    ``Condition("IP_REMOTE_PORT", "equal", 443)``. `match` is an FWP_MATCH_*
    name in lower case without the prefix (``equal``, ``range``,
    ``flags_all_set``, ``prefix`` …). `value` takes the field's type: an
    int, an ``ipaddress`` address or network, ``range(lo, hi + 1)`` or
    ``(lo, hi)`` (match ``range``), a Windows path (ALE_APP_ID), an SDDL
    string (ALE_USER_ID), a SID, a list of flag names, bytes, ``None``
    (FWP_EMPTY) or a :class:`Typed` value. Conditions on one field are
    OR'ed, on different fields AND'ed.
    """

    field: str
    match: str
    value: Any

    def __yaml__(self) -> Dict[str, Any]:
        return {"field": self.field, "match": self.match, "value": _condition_value(self.value)}


_wfpsim._set_classes(condition=Condition, quoted=Quoted)


def _conditions(conds: Any) -> Any:
    """Conditions as the scenario format takes them: a list of
    {field, match, value}, or the short form {FIELD: VALUE}."""
    if conds is None:
        return None
    if isinstance(conds, Mapping):
        return {str(k): _condition_value(v) for k, v in conds.items()}
    out = []
    for c in conds:
        if isinstance(c, Condition):
            out.append(c.__yaml__())
        elif isinstance(c, Mapping):
            d = dict(c)
            if "value" in d:
                d["value"] = _condition_value(d["value"])
            out.append(d)
        elif isinstance(c, (tuple, list)) and len(c) in (2, 3):
            field, match, value = (c[0], "equal", c[1]) if len(c) == 2 else c
            out.append(Condition(field, match, value).__yaml__())
        else:
            raise TypeError("a condition is a Condition, a (field, match, value) tuple or a mapping, not %r" % (c,))
    return out


def _value_text(v: Any) -> str:
    """An incoming value as the text `wfpsim classify` takes (wfp_policy_values_set)."""
    if v is None:
        return "empty"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, enum.Enum):
        return _value_text(v.value)
    if isinstance(v, (int, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "hex:" + bytes(v).hex()
    if isinstance(v, uuid.UUID):
        return "{%s}" % v
    if isinstance(v, (list, tuple, set, frozenset)):
        # flag names (FLAGS) or SIDs of a token (user first): comma-separated
        return ",".join(_value_text(x) for x in v)
    return str(v)


def _body(**kw: Any) -> Dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _normalize_policy(policy: Mapping[str, Any]) -> Dict[str, Any]:
    """A policy mapping with Python-valued conditions in the scenario format."""
    out = dict(policy)
    if out.get("filters"):
        fl = []
        for f in out["filters"]:
            f = dict(f)
            if f.get("conditions") is not None:
                f["conditions"] = _conditions(f["conditions"])
            fl.append(f)
        out["filters"] = fl
    if out.get("callouts"):
        cl = []
        for c in out["callouts"]:
            c = dict(c)
            if isinstance(c.get("classify"), list):
                c["classify"] = [dict(r, when=_conditions(r["when"])) if r.get("when") is not None else dict(r)
                                 for r in c["classify"]]
            cl.append(c)
        out["callouts"] = cl
    return out


# ---- subscriptions ---------------------------------------------------------------


class Subscription:
    """A change or net-event subscription; ``close()`` (or leaving a ``with``
    block) unsubscribes. Ends by itself when its session closes."""

    __slots__ = ("session", "handle", "net_events")

    def __init__(self, session: "Session", handle: int, net_events: bool = False) -> None:
        self.session: Optional[Session] = session
        self.handle = handle
        self.net_events = net_events

    @property
    def closed(self) -> bool:
        return self.session is None or self.session.closed

    def close(self) -> None:
        """Unsubscribe (idempotent)."""
        s, self.session = self.session, None
        if s is not None and not s.closed:
            if self.net_events:
                s.unsubscribe_net_events(self.handle)
            else:
                _wfpsim.Session.unsubscribe(s, self.handle)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return "<Subscription %d%s%s>" % (self.handle, " (net events)" if self.net_events else "",
                                          " closed" if self.closed else "")


_NET_EVENT_TYPES = {"ike_mm_failure": 0, "ike_qm_failure": 1, "ike_em_failure": 2, "classify_drop": 3,
                    "ipsec_kernel_drop": 4, "ipsec_dosp_drop": 5, "classify_allow": 6, "capability_drop": 7,
                    "capability_allow": 8, "classify_drop_mac": 9, "lpm_packet_arrival": 10}


def _net_event_value(field: str, v: Any) -> Any:
    """Net-event template values are typed (the fields are no layer's)."""
    f = field.upper().replace("FWPM_CONDITION_", "")
    if isinstance(v, Typed):
        return to_yaml_value(v)
    if f == "IP_PROTOCOL":
        return {"type": "FWP_UINT8", "value": int(v)}
    if f in ("IP_LOCAL_ADDRESS", "IP_REMOTE_ADDRESS"):
        if isinstance(v, str):
            v = ipaddress.ip_network(v, strict=False) if "/" in v else ipaddress.ip_address(v)
        if isinstance(v, ipaddress.IPv4Address):
            return {"type": "FWP_UINT32", "value": int(v)}
        if isinstance(v, ipaddress.IPv6Address):
            return {"type": "FWP_BYTE_ARRAY16_TYPE", "value": str(v)}
        if isinstance(v, ipaddress.IPv4Network):
            return {"type": "FWP_V4_ADDR_MASK", "value": v.with_prefixlen}
        if isinstance(v, ipaddress.IPv6Network):
            return {"type": "FWP_V6_ADDR_MASK", "value": v.with_prefixlen}
    if f in ("IP_LOCAL_PORT", "IP_REMOTE_PORT"):
        return {"type": "FWP_UINT16", "value": int(v)}
    if f == "ALE_APP_ID":
        blob = v if isinstance(v, (bytes, bytearray)) else app_id(str(v))
        return {"type": "FWP_BYTE_BLOB_TYPE", "value": "hex:" + bytes(blob).hex()}
    if f == "ALE_USER_ID":
        return {"type": "FWP_SID", "value": str(v)}
    if f == "NET_EVENT_TYPE":
        return {"type": "FWP_UINT32", "value": _NET_EVENT_TYPES.get(str(v).lower(), v) if isinstance(v, str) else int(v)}
    raise ValueError("net-event templates take IP_PROTOCOL, IP_LOCAL/REMOTE_ADDRESS, IP_LOCAL/REMOTE_PORT, "
                     "ALE_APP_ID, ALE_USER_ID or NET_EVENT_TYPE, not %r" % field)


def _net_event_conditions(conds: Any) -> Optional[str]:
    if not conds:
        return None
    items = conds.items() if isinstance(conds, Mapping) else [(c[0], c[-1]) for c in conds]
    out = []
    for field, value in items:
        match = "equal"
        if isinstance(value, Condition):
            match, value = value.match, value.value
        out.append({"field": field, "match": match, "value": _net_event_value(field, value)})
    return yaml_dump(out)


# ---- sessions --------------------------------------------------------------------


class Session(_wfpsim.Session):
    """A session on an engine (FwpmEngineOpen0); a context manager that
    closes it. Keeps its engine alive.

    ``Session(engine, *, name=None, key=None, user=None, admin=True,
    dynamic=False, kernel=False, groups=(), txn_wait_timeout_ms=0)``:
    `user` is the token's user SID (default SYSTEM, ``S-1-5-18``), `admin`
    adds BUILTIN\\Administrators, `groups` further group SIDs, `kernel`
    makes a kernel-mode caller (no access checks). A dynamic session's
    objects are deleted when it closes.
    """

    __slots__ = ()

    # -- transactions --

    @contextlib.contextmanager
    def transaction(self, read_only: bool = False) -> Iterator["Session"]:
        """``with session.transaction():`` — commit on success, abort when
        the block raises (the exception propagates)."""
        self.begin(read_only=read_only)
        try:
            yield self
        except BaseException:
            if not self.closed and self.in_transaction:
                try:
                    self.abort()
                except WfpError:
                    pass
            raise
        else:
            self.commit()

    # -- adding objects --

    def add(self, kind: int, body: Mapping[str, Any]) -> Any:
        """Add one object given as a scenario-format mapping (kind PROVIDER,
        SUBLAYER, CALLOUT or FILTER); returns its record."""
        if kind == FILTER and body.get("conditions") is not None:
            body = dict(body, conditions=_conditions(body["conditions"]))
        return self._add(kind, yaml_dump(dict(body)))

    def add_provider(self, name: str, *, key: Any = None, description: Optional[str] = None,
                     persistent: Optional[bool] = None, flags: Any = None, service_name: Optional[str] = None,
                     provider_data: Optional[bytes] = None) -> Provider:
        """FwpmProviderAdd0. The key is derived from the name unless given."""
        return self.add(PROVIDER, _body(name=name, key=key, description=description, persistent=persistent,
                                        flags=flags, service_name=service_name, provider_data=provider_data))

    def add_sublayer(self, name: str, *, weight: Optional[int] = None, provider: Any = None, key: Any = None,
                     description: Optional[str] = None, persistent: Optional[bool] = None, flags: Any = None,
                     provider_data: Optional[bytes] = None) -> Sublayer:
        """FwpmSubLayerAdd0. A taken weight moves to the closest free one
        (``.weight`` of the result is what BFE assigned)."""
        return self.add(SUBLAYER, _body(name=name, key=key, description=description, weight=weight,
                                        provider=provider, persistent=persistent, flags=flags,
                                        provider_data=provider_data))

    def add_callout(self, name: str, layer: str, *, classify: Any = None, provider: Any = None, key: Any = None,
                    description: Optional[str] = None, persistent: Optional[bool] = None, flags: Any = None,
                    provider_data: Optional[bytes] = None, registered: Optional[bool] = None) -> Callout:
        """FwpmCalloutAdd0, and optionally the driver side.

        `classify` may be a Python function ``fn(values, out)`` (registered
        with :meth:`Engine.register_callout`), or a list of declarative rules
        as in scenario files (``[{"when": {...}, "action": "block",
        "clear_write_right": True}]``). Without it the callout is only the
        management object (register its driver side later, or leave it
        unregistered: its filters then block)."""
        body = _body(name=name, key=key, description=description, layer=layer, provider=provider,
                     persistent=persistent, flags=flags, provider_data=provider_data)
        fn = None
        if callable(classify):
            fn, registered = classify, False
        elif classify is not None:
            body["classify"] = [dict(r, when=_conditions(r["when"])) if r.get("when") is not None else dict(r)
                                for r in classify]
            registered = True if registered is None else registered
        body["registered"] = bool(registered)
        rec = self._add(CALLOUT, yaml_dump(body))
        if fn is not None:
            self.engine.register_callout(name, fn)
        return rec

    def add_filter(self, name: str, layer: str, action: Optional[str] = None, *, conditions: Any = None,
                   callout: Any = None, sublayer: Any = None, provider: Any = None, weight: Any = None,
                   flags: Any = None, hard: bool = False, key: Any = None, description: Optional[str] = None,
                   context: Optional[int] = None, provider_data: Optional[bytes] = None) -> Filter:
        """FwpmFilterAdd0.

        `action`: ``permit``, ``block``, ``callout_terminating``,
        ``callout_inspection`` or ``callout_unknown`` (default
        ``callout_terminating`` when `callout` is given). `hard=True` adds
        the ``clear_action_right`` flag. `weight`: None (automatic), 0..15
        (a weight range) or a 64-bit weight. `conditions`: a list of
        :class:`Condition` (or (field, match, value) tuples) or the short
        form ``{FIELD: value}``. Names (sublayer, provider, callout) resolve
        through this engine's names, then the built-in WFP names."""
        if action is None:
            if callout is None:
                raise TypeError("add_filter() needs an action (or a callout)")
            action = "callout_terminating"
        if hard:
            if flags is None:
                flags = []
            elif isinstance(flags, (str, int)):
                flags = [flags]
            flags = list(flags) + ["clear_action_right"]
        return self.add(FILTER, _body(name=name, key=key, description=description, layer=layer, sublayer=sublayer,
                                      provider=provider, weight=weight, action=action, callout=callout,
                                      flags=flags, conditions=conditions, context=context,
                                      provider_data=provider_data))

    def add_policy(self, policy: Union[Mapping[str, Any], str, "os.PathLike[str]"]) -> None:
        """Add a whole policy: a mapping with providers, sublayers, callouts
        and filters (added in that order), or a file (a scenario or a bare
        policy; errors then name FILE:LINE:COL)."""
        if isinstance(policy, (str, os.PathLike)):
            self._apply_policy_file(os.fspath(policy))
            return
        policy = _normalize_policy(policy)
        for key, kind in (("providers", PROVIDER), ("sublayers", SUBLAYER), ("callouts", CALLOUT),
                          ("filters", FILTER)):
            for body in policy.get(key) or ():
                if kind == CALLOUT and "registered" not in body:
                    body = dict(body, registered=True)  # as in scenario files
                self.add(kind, body)

    # -- deleting and getting --

    def delete_provider(self, provider: Any) -> None:
        """FwpmProviderDeleteByKey0 (key, '{guid}' or name)."""
        self._delete(PROVIDER, provider)

    def delete_sublayer(self, sublayer: Any) -> None:
        """FwpmSubLayerDeleteByKey0."""
        self._delete(SUBLAYER, sublayer)

    def delete_callout(self, callout: Any) -> None:
        """FwpmCalloutDeleteByKey0 / ById0 (an int is an id)."""
        self._delete(CALLOUT, callout)

    def delete_filter(self, filter: Any) -> None:
        """FwpmFilterDeleteByKey0 / ById0 (an int is an id)."""
        self._delete(FILTER, filter)

    def get_provider(self, provider: Any) -> Provider:
        """FwpmProviderGetByKey0 (raises NotFoundError)."""
        return self._get(PROVIDER, provider)

    def get_sublayer(self, sublayer: Any) -> Sublayer:
        """FwpmSubLayerGetByKey0."""
        return self._get(SUBLAYER, sublayer)

    def get_callout(self, callout: Any) -> Callout:
        """FwpmCalloutGetByKey0 / ById0."""
        return self._get(CALLOUT, callout)

    def get_filter(self, filter: Any) -> Filter:
        """FwpmFilterGetByKey0 / ById0."""
        return self._get(FILTER, filter)

    # -- enumeration (snapshots, as the enum handles take them) --

    def providers(self) -> Iterator[Provider]:
        """Every provider this session may read."""
        return iter(self._enum("provider"))

    def sublayers(self, *, provider: Any = None) -> Iterator[Sublayer]:
        """Sublayers (of a provider)."""
        return iter(self._enum("sublayer", provider=provider))

    def callouts(self, *, layer: Optional[str] = None, provider: Any = None) -> Iterator[Callout]:
        """Callouts (of a layer, of a provider)."""
        return iter(self._enum("callout", layer=layer, provider=provider))

    def filters(self, *, layer: Optional[str] = None, provider: Any = None, conditions: Any = None,
                enum_type: str = "overlapping", flags: int = 0, action_mask: Optional[int] = None,
                callout: Any = None) -> Iterator[Filter]:
        """Filters matching an enum template (FWPM_FILTER_ENUM_TEMPLATE0):
        `enum_type` ``overlapping`` or ``fully_contained``; `flags`
        FWP_FILTER_ENUM_FLAG_*; `action_mask` (default: any action)."""
        et = {"fully_contained": 0, "overlapping": 1}.get(enum_type, enum_type)
        ctext = yaml_dump(_conditions(conditions)) if conditions else None
        return iter(self._enum("filter", layer=layer, provider=provider, conditions=ctext, enum_type=et,
                               flags=flags, action_mask=0xFFFFFFFF if action_mask is None else action_mask,
                               callout=callout))

    def layers(self) -> Iterator[Layer]:
        """Every layer (FwpmLayerEnum0)."""
        return iter(self._enum("layer"))

    # -- subscriptions and net events --

    def subscribe(self, object_type: Union[str, int], callback: Callable[[Change], Any], *,  # type: ignore[override]
                  on: Optional[str] = None, layer: Optional[str] = None, provider: Any = None) -> Subscription:
        """Change notifications (Fwpm*SubscribeChanges0) for 'provider',
        'sublayer', 'callout' or 'filter'. `callback(change)` runs for every
        other session's committed change, in order, once the engine call that
        caused it returns. `on`: 'add', 'delete' or None (both)."""
        flags = {None: 0, "add": FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_ADD,
                 "delete": FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_DELETE}[on]
        handle = _wfpsim.Session.subscribe(self, object_type, callback, flags, layer, provider)
        return Subscription(self, handle)

    def net_events(self, *, start_ns: int = 0, end_ns: int = 0, conditions: Any = None) -> List[NetEvent]:
        """The net-event log (oldest first), filtered by a template:
        `conditions` on IP_PROTOCOL, IP_LOCAL/REMOTE_ADDRESS,
        IP_LOCAL/REMOTE_PORT, ALE_APP_ID, ALE_USER_ID, NET_EVENT_TYPE."""
        return self._net_events(start_ns, end_ns, _net_event_conditions(conditions))

    def subscribe_net_events(self, callback: Callable[[NetEvent], Any], *, start_ns: int = 0, end_ns: int = 0,
                             conditions: Any = None) -> Subscription:
        """FwpmNetEventSubscribe: `callback(event)` for each new matching event."""
        handle = self._subscribe_net_events(callback, start_ns, end_ns, _net_event_conditions(conditions))
        return Subscription(self, handle, net_events=True)

    def __repr__(self) -> str:
        if self.closed:
            return "<wfpsim.Session closed>"
        return "<wfpsim.Session %s%s>" % (self.key, " dynamic" if self.dynamic else "")


# ---- the engine -----------------------------------------------------------------------


class Engine(_wfpsim.Engine):
    """A WFP filter engine and base filtering engine (BFE): no global state,
    have as many as you like. A context manager; ``close()`` is idempotent.

    ``Engine(*, or_mode='group_by_field')``: how same-field conditions are
    OR'ed ('adjacent': only consecutive ones, as a literal reading of the
    documentation has it).
    """

    __slots__ = ()

    def session(self, **kwargs: Any) -> Session:
        """Open a session (see :class:`Session` for the keywords)."""
        return Session(self, **kwargs)

    def classify(self, layer: str, values: Optional[Mapping[str, Any]] = None, /, *, time_ns: int = 0,
                 direction: Optional[str] = None, process_id: Optional[int] = None, trace: bool = True,
                 **fields: Any) -> Verdict:
        """Classify one set of incoming values at a layer.

        `values` maps field names (``IP_REMOTE_PORT``, aliases, GUIDs) to
        Python values in the field's type (ints, ipaddress objects, Windows
        paths for ALE_APP_ID, SIDs, lists of flag names, bytes; None is
        FWP_EMPTY); keyword arguments add more. Unset fields are FWP_EMPTY.
        Returns a :class:`Verdict` with every sublayer's decision and every
        filter tried (``trace=False`` skips them). A Python callout that
        raises makes this raise :class:`CalloutError`."""
        items = []
        for src in (values or {}), fields:
            for k, v in src.items():
                items.append((str(k), _value_text(v)))
        return self._classify(layer, items, time_ns, direction, process_id, trace)

    def callout(self, callout: Any, *, flags: int = 0) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: register the function as the callout's classify function."""
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.register_callout(callout, fn, flags)
            return fn
        return register

    def apply_policy(self, policy: Union[Mapping[str, Any], str, "os.PathLike[str]"], **session: Any) -> None:
        """Add a policy through a fresh administrator session (closed after)."""
        with self.session(**session) as s:
            s.add_policy(policy)

    def filters(self, layer: Optional[str] = None) -> List[Filter]:
        """Filters in the order the engine evaluates them (no session)."""
        return self.filter_list(layer)

    def __repr__(self) -> str:
        return "<wfpsim.Engine%s>" % (" closed" if self.closed else "")


# ---- scenarios ----------------------------------------------------------------------------

_TOP_ORDER = ("wfpsim", "name", "description", "references", "evidence", "engine", "host", "hosts", "links",
              "policy", "sessions", "steps", "traffic", "expect")


def _relocate_files(data: Dict[str, Any], base_dir: str, target_dir: Optional[str]) -> Dict[str, Any]:
    """The files a scenario names (traffic pcaps, policy imports) resolved
    against base_dir, then made relative to target_dir (None: absolute)."""

    def moved(p: Any) -> Any:
        if not isinstance(p, (str, os.PathLike)):
            return p
        p = os.fspath(p)
        full = p if os.path.isabs(p) else os.path.normpath(os.path.join(base_dir, p))
        if target_dir is not None:
            full = os.path.relpath(full, target_dir).replace(os.sep, "/")
        return full

    def policy(pol: Any) -> Any:
        if isinstance(pol, Mapping) and "import" in pol:
            return dict(pol, **{"import": moved(pol["import"])})
        return pol

    out = dict(data)
    traffic = data.get("traffic")
    if isinstance(traffic, list):
        out["traffic"] = [dict(t, pcap=moved(t["pcap"])) if isinstance(t, Mapping) and "pcap" in t else t
                          for t in traffic]
    if "policy" in data:
        out["policy"] = policy(data["policy"])
    hosts = data.get("hosts")
    if isinstance(hosts, Mapping):
        out["hosts"] = {k: dict(h, policy=policy(h["policy"])) if isinstance(h, Mapping) and "policy" in h else h
                        for k, h in hosts.items()}
    return out


class Scenario:
    """A scenario (docs/scenario-format.md): loaded from a file, or built
    from Python dicts; checked, run, saved as YAML that ``wfpsim run``
    accepts.

    ``Scenario({...})`` or ``Scenario(name=..., host=..., policy=...,
    traffic=..., expect=...)``. Values may be Python objects (ipaddress,
    :class:`Condition`, ``range``, UUIDs, bytes). Relative file paths
    (pcaps, policy imports) are relative to `base_dir` (default: the current
    directory at creation; for a loaded scenario, its file's directory).
    """

    def __init__(self, data: Optional[Mapping[str, Any]] = None, /, *, base_dir: Optional[str] = None,
                 **sections: Any) -> None:
        d: Dict[str, Any] = {"wfpsim": 1}
        d.update(data or {})
        d.update(sections)
        self._data: Optional[Dict[str, Any]] = d
        self._pristine: Optional[Dict[str, Any]] = None
        self._file: Optional[ScenarioFile] = None
        self.path: Optional[str] = None
        self.base_dir = os.path.abspath(base_dir if base_dir is not None else os.getcwd())

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "Scenario":
        """Load and check a scenario file (raises ScenarioError with
        FILE:LINE:COL messages)."""
        sc = cls.__new__(cls)
        sc._file = ScenarioFile(path)
        sc.path = os.fspath(path)
        sc.base_dir = os.path.dirname(os.path.abspath(sc.path))
        sc._data = None
        sc._pristine = None
        return sc

    @classmethod
    def from_yaml(cls, text: str, *, base_dir: Optional[str] = None) -> "Scenario":
        """A scenario from YAML text."""
        return cls(yaml_load(text=text, name="<scenario>"), base_dir=base_dir)

    @property
    def data(self) -> Dict[str, Any]:
        """The scenario as dicts and lists (editable: the next run uses it)."""
        if self._data is None:
            assert self.path is not None
            self._data = yaml_load(self.path)
            self._pristine = copy.deepcopy(self._data)
        return self._data

    @property
    def name(self) -> Optional[str]:
        if self._file is not None and (self._data is None or self._data == self._pristine):
            return self._file.name
        n = self.data.get("name")
        return None if n is None else str(n)

    def to_dict(self) -> Dict[str, Any]:
        """A deep copy of the scenario's data, top-level keys in canonical order."""
        d = copy.deepcopy(self.data)
        ordered = {k: d[k] for k in _TOP_ORDER if k in d}
        ordered.update({k: v for k, v in d.items() if k not in ordered})
        if isinstance(ordered.get("policy"), Mapping):
            ordered["policy"] = _normalize_policy(ordered["policy"])
        for h in (ordered.get("hosts") or {}).values() if isinstance(ordered.get("hosts"), Mapping) else ():
            if isinstance(h, dict) and isinstance(h.get("policy"), Mapping):
                h["policy"] = _normalize_policy(h["policy"])
        return ordered

    def to_yaml(self, *, relative_to: Optional[str] = None) -> str:
        """The scenario as YAML text (deterministic). Pcap and policy import
        paths are written relative to `relative_to` (a directory; None:
        absolute)."""
        return yaml_dump(_relocate_files(self.to_dict(), self.base_dir, relative_to))

    def save(self, path: Union[str, "os.PathLike[str]"]) -> str:
        """Write the scenario to `path` (file paths relative to its directory)."""
        p = os.fspath(path)
        text = self.to_yaml(relative_to=os.path.dirname(os.path.abspath(p)))
        with open(p, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        return p

    def _compiled(self) -> ScenarioFile:
        if self._file is not None and (self._data is None or self._data == self._pristine):
            return self._file
        tmp = tempfile.mkdtemp(prefix="wfpsim-")
        try:
            path = os.path.join(tmp, "scenario.yaml")
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(self.to_yaml(relative_to=None))
            return ScenarioFile(path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def check(self) -> bool:
        """Apply the policy and parse every step and packet without running
        traffic (``wfpsim check``). True, or raises ScenarioError."""
        return self._compiled().check()

    def run(self, *, trace: bool = False) -> ScenarioResult:
        """Run on fresh hosts and check the expectations. The GIL is released
        while the simulation runs. Returns a ScenarioResult: ``.passed``,
        ``.reason``, ``.failures``, ``.packets`` (PacketRecord with the
        verdict, deciding layer/filter/reason and every classify call),
        ``.net_events`` (ScenarioNetEvent: every host's log with the packet
        and filter name), ``.notifications`` (Notification, in delivery
        order) and ``.expectations`` (ExpectationOutcome: one per item of
        ``expect:``, passed or failed with its message)."""
        return self._compiled().run(trace=trace)

    def graph(self, layer: Optional[str] = None, packet: Optional[int] = None, journey: Optional[int] = None,
              host: Optional[str] = None, collapse: Optional[str] = None, filter: Optional[str] = None,
              format: str = "svg", title: Optional[str] = None) -> Union[str, bytes]:
        """A picture of arbitration, as ``wfpsim graph`` draws it (docs/graphs.md).

        ``layer`` alone gives the layer view (the policy as it stands at the
        end of the run); with ``packet=N`` packet N's classification is laid
        over it (without ``layer``: over the layer that decided its fate);
        ``journey=N`` gives packet N's path through the layers. ``collapse``
        is None, "provider" or "sublayer"; ``filter`` keeps only filters whose
        name or provider contains it. Returns str for "svg" and "dot", bytes
        for "png" and "pdf". Unusable input raises ScenarioError."""
        kw = dict(layer=layer, packet=packet, journey=journey, host=host, collapse=collapse, filter=filter,
                  format=format, title=title)
        if self._file is not None and (self._data is None or self._data == self._pristine):
            return self._file.graph(**kw)
        tmp = tempfile.mkdtemp(prefix="wfpsim-")
        try:
            path = os.path.join(tmp, "scenario.yaml")
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(self.to_yaml(relative_to=None))
            return ScenarioFile(path).graph(**kw)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def __repr__(self) -> str:
        return "<wfpsim.Scenario %r%s>" % (self.name, " from %s" % self.path if self.path else "")


# ---- replay --------------------------------------------------------------------------------


def replay(capture: Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]], *,
           scenario: Union[Scenario, str, "os.PathLike[str]", None] = None,
           policy: Union[Mapping[str, Any], str, "os.PathLike[str]", None] = None,
           local: Optional[Iterable[Any]] = None, host: Optional[str] = None, trace: bool = False,
           adopt_midstream_tcp: bool = False) -> ScenarioResult:
    """Replay captures (pcap/pcapng) through a simulated host.

    Either `scenario` (its hosts, policy and steps; its traffic and
    expectations are replaced by the captures) or `policy` (a mapping or a
    file) with `local`, the host's addresses (traffic to them is inbound,
    from them outbound). Returns a ScenarioResult whose ``.packets`` hold
    each packet's verdict, deciding layer, filter and reason, and every
    classify call. The GIL is released while it runs."""
    caps = [capture] if isinstance(capture, (str, os.PathLike)) else list(capture)
    traffic = []
    for c in caps:
        t: Dict[str, Any] = {"pcap": os.path.abspath(os.fspath(c))}
        if host is not None:
            t["host"] = host
        traffic.append(t)
    if (scenario is None) == (policy is None):
        raise TypeError("replay() takes either scenario= or policy= (with local=)")
    if scenario is not None:
        sc = scenario if isinstance(scenario, Scenario) else Scenario.load(scenario)
        data = sc.to_dict()
        data["traffic"] = traffic
        data.pop("expect", None)
        if adopt_midstream_tcp and isinstance(data.get("host"), dict):
            data["host"]["adopt_midstream_tcp"] = True
        return Scenario(data, base_dir=sc.base_dir).run(trace=trace)
    if not local:
        raise TypeError("replay(policy=...) needs local=[addresses of the host]")
    pol = policy_file(os.fspath(policy)) if isinstance(policy, (str, os.PathLike)) else dict(policy)  # type: ignore[arg-type]
    h: Dict[str, Any] = {"name": host or "host", "addresses": [str(a) for a in local]}
    if adopt_midstream_tcp:
        h["adopt_midstream_tcp"] = True
    return Scenario({"name": "replay", "host": h, "policy": pol, "traffic": traffic}).run(trace=trace)
