# Type stubs for wfpsim (the pure-Python layer and the _wfpsim extension).
import os
import uuid
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import (Any, Callable, ContextManager, Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional,
                    Sequence, Tuple, Union)

__version__: str

PathLike = Union[str, "os.PathLike[str]"]
Key = Union[uuid.UUID, str]
Address = Union[IPv4Address, IPv6Address]
ConditionValue = Any

PROVIDER: int
SUBLAYER: int
CALLOUT: int
FILTER: int
FWP_ACTION_BLOCK: int
FWP_ACTION_PERMIT: int
FWP_ACTION_CONTINUE: int
FWPS_RIGHT_ACTION_WRITE: int
FWPS_CLASSIFY_OUT_FLAG_ABSORB: int
FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT: int
FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT: int
FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_ADD: int
FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_DELETE: int

RESULT_CODES: Dict[str, int]
VERDICT_REASONS: Tuple[str, ...]

# ---- errors -------------------------------------------------------------------

class WfpError(Exception):
    code: int
    name: str
    message: Optional[str]
    detail: Optional[str]
    codes: Tuple[str, ...]

class NotFoundError(WfpError, LookupError): ...
class AlreadyExistsError(WfpError): ...
class InUseError(WfpError): ...
class AccessDeniedError(WfpError): ...
class SessionError(WfpError): ...
class TransactionError(WfpError): ...
class LockTimeoutError(WfpError, TimeoutError): ...
class TypeMismatchError(WfpError, TypeError): ...
class InvalidParameterError(WfpError, ValueError): ...
class LimitError(WfpError): ...
class NotAvailableError(WfpError): ...
class OutOfMemoryError(WfpError): ...

class CalloutError(RuntimeError):
    callout: str

class PolicyError(ValueError):
    messages: List[str]

class ScenarioError(ValueError):
    messages: List[str]

def error_for(code: int, detail: Optional[str] = ...) -> WfpError: ...
def error_class(code: int) -> type: ...
def result_name(code: int) -> Optional[str]: ...
def result_message(code: int) -> Optional[str]: ...
def result_code(name: str) -> int: ...

# ---- records ------------------------------------------------------------------

class SublayerDecision(Tuple[Any, ...]):
    key: uuid.UUID
    name: Optional[str]
    weight: int
    action: str
    filter_id: int
    filter: Optional[str]
    hard: bool
    effect: str

class FilterStep(Tuple[Any, ...]):
    filter_id: int
    sublayer_key: Optional[uuid.UUID]
    matched: bool
    result: Optional[str]
    hard: bool
    effect: str
    callout_invoked: bool

class Verdict(Tuple[Any, ...]):
    layer: str
    layer_id: int
    action: str
    action_type: int
    permitted: bool
    hard: bool
    vetoed: bool
    absorb: bool
    reason: str
    filter_id: int
    filter: Optional[str]
    sublayer_key: Optional[uuid.UUID]
    sublayer: Optional[str]
    host: Optional[str]
    reauth: bool
    rights: int
    flags: int
    context: int
    sublayers: Tuple[SublayerDecision, ...]
    steps: Tuple[FilterStep, ...]

class Change(Tuple[Any, ...]):
    object_type: str
    change: str
    key: uuid.UUID
    id: int
    name: Optional[str]

class NetEvent(Tuple[Any, ...]):
    sequence: int
    time_ns: int
    type: str
    flags: int
    ip_version: Optional[int]
    ip_protocol: Optional[int]
    local_address: Optional[Address]
    remote_address: Optional[Address]
    local_port: Optional[int]
    remote_port: Optional[int]
    scope_id: Optional[int]
    app_id: Optional[str]
    user_id: Optional[str]
    filter_id: int
    layer: Optional[str]
    layer_id: int
    reauth_reason: int
    original_profile: int
    current_profile: int
    direction: Optional[str]
    is_loopback: bool

class Provider(Tuple[Any, ...]):
    key: uuid.UUID
    name: Optional[str]
    description: Optional[str]
    flags: int
    service_name: Optional[str]
    provider_data: Optional[bytes]

class Sublayer(Tuple[Any, ...]):
    key: uuid.UUID
    name: Optional[str]
    description: Optional[str]
    flags: int
    provider_key: Optional[uuid.UUID]
    weight: int
    provider_data: Optional[bytes]

class Callout(Tuple[Any, ...]):
    key: uuid.UUID
    name: Optional[str]
    description: Optional[str]
    flags: int
    provider_key: Optional[uuid.UUID]
    layer: str
    id: int
    provider_data: Optional[bytes]

class Condition(NamedTuple):
    field: str
    match: str
    value: Any
    def __yaml__(self) -> Dict[str, Any]: ...

class Filter(Tuple[Any, ...]):
    key: uuid.UUID
    name: Optional[str]
    description: Optional[str]
    flags: int
    provider_key: Optional[uuid.UUID]
    layer: str
    sublayer_key: uuid.UUID
    weight: Optional[int]
    effective_weight: int
    action: str
    action_type: int
    callout_key: Optional[uuid.UUID]
    context: int
    id: int
    conditions: Tuple[Condition, ...]
    provider_data: Optional[bytes]

class Field(Tuple[Any, ...]):
    name: str
    key: uuid.UUID
    field_type: str
    data_type: str

class Layer(Tuple[Any, ...]):
    name: str
    display_name: Optional[str]
    key: uuid.UUID
    id: int
    flags: int
    default_sublayer: uuid.UUID
    fields: Tuple[Field, ...]
    base_layer_id: Optional[int]

class EngineStats(Tuple[int, ...]):
    classify_count: int
    inbound_allowed_v4: int
    inbound_blocked_v4: int
    outbound_allowed_v4: int
    outbound_blocked_v4: int
    inbound_allowed_v6: int
    inbound_blocked_v6: int
    outbound_allowed_v6: int
    outbound_blocked_v6: int
    reauth_dir_inbound: int
    reauth_dir_outbound: int
    reauth_family_v4: int
    reauth_family_v6: int
    reauth_reason_policy_change: int
    notifications_delivered: int
    net_events_recorded: int
    net_events_dropped: int

class LayerStats(Tuple[int, ...]):
    classify_count: int
    permit_count: int
    block_count: int
    veto_count: int

class PacketRecord(Tuple[Any, ...]):
    number: int
    time_ns: int
    host: Optional[str]
    inbound: bool
    permitted: bool
    absorbed: bool
    verdict: str
    layer: Optional[str]
    layer_id: Optional[int]
    filter_id: int
    filter: Optional[str]
    reason: Optional[str]
    drop_reason: Optional[str]
    injected_from: Optional[int]
    calls: Tuple[Verdict, ...]

class ScenarioNetEvent(Tuple[Any, ...]):
    host: Optional[str]
    sequence: int
    time_ns: int
    type: Optional[str]
    packet: int
    layer: Optional[str]
    layer_id: int
    filter_id: int
    filter: Optional[str]
    ip_version: Optional[int]
    ip_protocol: Optional[int]
    local_address: Optional[Address]
    remote_address: Optional[Address]
    local_port: Optional[int]
    remote_port: Optional[int]
    direction: Optional[str]
    flags: int

class Notification(Tuple[Any, ...]):
    session: Optional[str]
    host: Optional[str]
    change: str
    object_type: Optional[str]
    key: uuid.UUID
    id: int
    name: Optional[str]

class ExpectationOutcome(Tuple[Any, ...]):
    kind: str
    what: Optional[str]
    file: Optional[str]
    line: int
    column: int
    passed: bool
    message: Optional[str]

class ScenarioResult(Tuple[Any, ...]):
    name: Optional[str]
    passed: bool
    reason: Optional[str]
    failures: Tuple[str, ...]
    packets: Tuple[PacketRecord, ...]
    net_events: Tuple[ScenarioNetEvent, ...]
    notifications: Tuple[Notification, ...]
    expectations: Tuple[ExpectationOutcome, ...]

# ---- values -----------------------------------------------------------------------

class Quoted(str): ...

class Typed:
    type: str
    value: Any
    def __init__(self, type: str, value: Any) -> None: ...

def to_yaml_value(v: Any) -> Any: ...
def yaml_dump(data: Any) -> str: ...
def yaml_load(path: Optional[PathLike] = ..., *, text: Optional[str] = ..., name: str = ...) -> Any: ...
def policy_file(path: PathLike) -> Dict[str, Any]: ...

def layers() -> List[Layer]: ...
def layer(name_or_id: Union[str, int]) -> Layer: ...
def condition_fields() -> Dict[str, uuid.UUID]: ...
def builtin_sublayers() -> Dict[str, Tuple[uuid.UUID, int]]: ...
def guid_from_name(kind: str, name: str) -> uuid.UUID: ...
def parse_guid(text: Key) -> uuid.UUID: ...
def parse_sid(text: str) -> bytes: ...
def format_sid(sid: bytes) -> str: ...
def parse_sddl(text: str) -> bytes: ...
def format_sd(sd: bytes) -> str: ...
def app_id(path: str) -> bytes: ...
def format_app_id(blob: bytes) -> str: ...
def token(sids: Sequence[str]) -> bytes: ...
def access_check(sd: bytes, token: bytes, desired: int) -> bool: ...

# ---- callouts -----------------------------------------------------------------------

class ClassifyOut:
    action: str
    rights: int
    flags: int
    @property
    def write_allowed(self) -> bool: ...
    @property
    def absorbed(self) -> bool: ...
    @property
    def layer(self) -> str: ...
    filter_id: int
    filter_context: int
    filter_weight: int
    filter_flags: int
    filter_action: int
    callout: str
    def permit(self) -> None: ...
    def block(self) -> None: ...
    def continue_(self) -> None: ...
    def clear_write_right(self) -> None: ...
    def absorb(self) -> None: ...

CalloutFn = Callable[[Dict[str, Any], ClassifyOut], Any]

# ---- engine and sessions -----------------------------------------------------------------

class Subscription:
    session: Optional[Session]
    handle: int
    net_events: bool
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Subscription: ...
    def __exit__(self, *exc: Any) -> None: ...

class Session:
    def __init__(self, engine: Engine, *, name: Optional[str] = ..., key: Optional[Key] = ...,
                 user: Optional[str] = ..., admin: bool = ..., dynamic: bool = ..., kernel: bool = ...,
                 groups: Sequence[str] = ..., txn_wait_timeout_ms: int = ...) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def engine(self) -> Engine: ...
    @property
    def key(self) -> uuid.UUID: ...
    @property
    def dynamic(self) -> bool: ...
    @property
    def in_transaction(self) -> bool: ...
    @property
    def holds_lock(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Session: ...
    def __exit__(self, *exc: Any) -> bool: ...
    def begin(self, read_only: bool = ...) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...
    def force_abort(self) -> None: ...
    def transaction(self, read_only: bool = ...) -> ContextManager[Session]: ...
    def add(self, kind: int, body: Mapping[str, Any]) -> Any: ...
    def add_provider(self, name: str, *, key: Optional[Key] = ..., description: Optional[str] = ...,
                     persistent: Optional[bool] = ..., flags: Any = ..., service_name: Optional[str] = ...,
                     provider_data: Optional[bytes] = ...) -> Provider: ...
    def add_sublayer(self, name: str, *, weight: Optional[int] = ..., provider: Optional[Key] = ...,
                     key: Optional[Key] = ..., description: Optional[str] = ..., persistent: Optional[bool] = ...,
                     flags: Any = ..., provider_data: Optional[bytes] = ...) -> Sublayer: ...
    def add_callout(self, name: str, layer: str, *, classify: Union[CalloutFn, Sequence[Mapping[str, Any]], None] = ...,
                    provider: Optional[Key] = ..., key: Optional[Key] = ..., description: Optional[str] = ...,
                    persistent: Optional[bool] = ..., flags: Any = ..., provider_data: Optional[bytes] = ...,
                    registered: Optional[bool] = ...) -> Callout: ...
    def add_filter(self, name: str, layer: str, action: Optional[str] = ..., *, conditions: Any = ...,
                   callout: Optional[Key] = ..., sublayer: Optional[Key] = ..., provider: Optional[Key] = ...,
                   weight: Any = ..., flags: Any = ..., hard: bool = ..., key: Optional[Key] = ...,
                   description: Optional[str] = ..., context: Optional[int] = ...,
                   provider_data: Optional[bytes] = ...) -> Filter: ...
    def add_policy(self, policy: Union[Mapping[str, Any], PathLike]) -> None: ...
    def delete_provider(self, provider: Key) -> None: ...
    def delete_sublayer(self, sublayer: Key) -> None: ...
    def delete_callout(self, callout: Union[Key, int]) -> None: ...
    def delete_filter(self, filter: Union[Key, int]) -> None: ...
    def get_provider(self, provider: Key) -> Provider: ...
    def get_sublayer(self, sublayer: Key) -> Sublayer: ...
    def get_callout(self, callout: Union[Key, int]) -> Callout: ...
    def get_filter(self, filter: Union[Key, int]) -> Filter: ...
    def providers(self) -> Iterator[Provider]: ...
    def sublayers(self, *, provider: Optional[Key] = ...) -> Iterator[Sublayer]: ...
    def callouts(self, *, layer: Optional[str] = ..., provider: Optional[Key] = ...) -> Iterator[Callout]: ...
    def filters(self, *, layer: Optional[str] = ..., provider: Optional[Key] = ..., conditions: Any = ...,
                enum_type: Union[str, int] = ..., flags: int = ..., action_mask: Optional[int] = ...,
                callout: Optional[Key] = ...) -> Iterator[Filter]: ...
    def layers(self) -> Iterator[Layer]: ...
    def subscribe(self, object_type: Union[str, int], callback: Callable[[Change], Any], *,
                  on: Optional[str] = ..., layer: Optional[str] = ..., provider: Optional[Key] = ...) -> Subscription: ...
    def unsubscribe(self, handle: int) -> None: ...
    def net_events(self, *, start_ns: int = ..., end_ns: int = ..., conditions: Any = ...) -> List[NetEvent]: ...
    def subscribe_net_events(self, callback: Callable[[NetEvent], Any], *, start_ns: int = ..., end_ns: int = ...,
                             conditions: Any = ...) -> Subscription: ...
    def unsubscribe_net_events(self, handle: int) -> None: ...
    def get_option(self, option: Union[str, int]) -> int: ...
    def set_option(self, option: Union[str, int], value: int) -> None: ...
    def get_security(self, object_type: Union[str, int], key: Optional[Key] = ...) -> str: ...
    def set_security(self, object_type: Union[str, int], key: Optional[Key], sddl: str, info: int = ...) -> None: ...

class Engine:
    def __init__(self, *, or_mode: str = ...) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def bfe_running(self) -> bool: ...
    @property
    def sessions(self) -> List[Session]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Engine: ...
    def __exit__(self, *exc: Any) -> bool: ...
    def session(self, *, name: Optional[str] = ..., key: Optional[Key] = ..., user: Optional[str] = ...,
                admin: bool = ..., dynamic: bool = ..., kernel: bool = ..., groups: Sequence[str] = ...,
                txn_wait_timeout_ms: int = ...) -> Session: ...
    def classify(self, layer: str, values: Optional[Mapping[str, Any]] = ..., /, *, time_ns: int = ...,
                 direction: Optional[str] = ..., process_id: Optional[int] = ..., trace: bool = ...,
                 **fields: Any) -> Verdict: ...
    def register_callout(self, callout: Key, fn: CalloutFn, flags: int = ...) -> int: ...
    def unregister_callout(self, callout: Key) -> None: ...
    def is_callout_registered(self, callout: Key) -> bool: ...
    def callout(self, callout: Key, *, flags: int = ...) -> Callable[[CalloutFn], CalloutFn]: ...
    def apply_policy(self, policy: Union[Mapping[str, Any], PathLike], **session: Any) -> None: ...
    def dump(self) -> str: ...
    def stats(self) -> EngineStats: ...
    def layer_stats(self, layer: str) -> LayerStats: ...
    def reboot(self) -> None: ...
    def bfe_start(self) -> None: ...
    def set_service_autostart(self, service: str, autostart: bool) -> None: ...
    def filters(self, layer: Optional[str] = ...) -> List[Filter]: ...
    def filter_list(self, layer: Optional[str] = ...) -> List[Filter]: ...
    def filter_by_id(self, id: int) -> Optional[Filter]: ...
    def filter_name(self, id: int) -> Optional[str]: ...
    def filter_id(self, name: str) -> Optional[int]: ...
    def key(self, kind: int, name_or_key: Key) -> uuid.UUID: ...
    def net_event_count(self) -> int: ...

# ---- scenarios and replay ------------------------------------------------------------------

class ScenarioFile:
    def __init__(self, path: PathLike) -> None: ...
    @property
    def name(self) -> Optional[str]: ...
    @property
    def path(self) -> Optional[str]: ...
    def check(self) -> bool: ...
    def run(self, trace: bool = ...) -> ScenarioResult: ...
    def graph(self, layer: Optional[str] = ..., packet: Optional[int] = ..., journey: Optional[int] = ...,
              host: Optional[str] = ..., collapse: Optional[str] = ..., filter: Optional[str] = ...,
              format: str = ..., title: Optional[str] = ...) -> Union[str, bytes]: ...

class Scenario:
    path: Optional[str]
    base_dir: str
    def __init__(self, data: Optional[Mapping[str, Any]] = ..., /, *, base_dir: Optional[str] = ...,
                 **sections: Any) -> None: ...
    @classmethod
    def load(cls, path: PathLike) -> Scenario: ...
    @classmethod
    def from_yaml(cls, text: str, *, base_dir: Optional[str] = ...) -> Scenario: ...
    @property
    def data(self) -> Dict[str, Any]: ...
    @property
    def name(self) -> Optional[str]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_yaml(self, *, relative_to: Optional[str] = ...) -> str: ...
    def save(self, path: PathLike) -> str: ...
    def check(self) -> bool: ...
    def run(self, *, trace: bool = ...) -> ScenarioResult: ...
    def graph(self, layer: Optional[str] = ..., packet: Optional[int] = ..., journey: Optional[int] = ...,
              host: Optional[str] = ..., collapse: Optional[str] = ..., filter: Optional[str] = ...,
              format: str = ..., title: Optional[str] = ...) -> Union[str, bytes]: ...

def replay(capture: Union[PathLike, Sequence[PathLike]], *, scenario: Union[Scenario, PathLike, None] = ...,
           policy: Union[Mapping[str, Any], PathLike, None] = ..., local: Optional[Iterable[Any]] = ...,
           host: Optional[str] = ..., trace: bool = ..., adopt_midstream_tcp: bool = ...) -> ScenarioResult: ...
