"""What a field in a request may hold, found from the operation's own types.

A validation error names a field (``$.scopes[0]``, ``query.type``); when that field is an
enumeration (an enum, a literal, the keys of a mapping keyed by one), the problem lists what it
accepts, so a client learns the allowed values from the answer instead of from the document.
The path is followed through msgspec's view of the types (structs, lists, mappings, unions,
optional fields), never through the error's message.
"""

from __future__ import annotations

import enum
import re
from typing import Any

import msgspec
from litestar import Request

# Longer lists are left to the API document (country codes: 245).
MAX_LISTED = 40
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")


def _unwrap(info: msgspec.inspect.Type) -> msgspec.inspect.Type:
    while isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    return info


def _step(
    info: msgspec.inspect.Type, name: str | None, index: str | None
) -> msgspec.inspect.Type | None:
    info = _unwrap(info)
    if isinstance(info, msgspec.inspect.UnionType):
        for member in info.types:
            found = _step(member, name, index)
            if found is not None:
                return found
        return None
    if name is not None and isinstance(info, msgspec.inspect.StructType):
        return next((f.type for f in info.fields if f.encode_name == name), None)
    if index is not None and isinstance(
        info, msgspec.inspect.ListType | msgspec.inspect.SetType | msgspec.inspect.VarTupleType
    ):
        return info.item_type
    if index is not None and isinstance(info, msgspec.inspect.DictType):
        return info.value_type
    return None


def _values(info: msgspec.inspect.Type) -> list[str]:
    info = _unwrap(info)
    if isinstance(info, msgspec.inspect.EnumType):
        return [str(m.value if isinstance(m, enum.Enum) else m) for m in info.cls]
    if isinstance(info, msgspec.inspect.LiteralType):
        return [str(v) for v in info.values]
    if isinstance(info, msgspec.inspect.UnionType):
        return [v for member in info.types for v in _values(member)]
    if isinstance(info, msgspec.inspect.DictType):
        # An invalid key is reported at the mapping itself.
        return _values(info.key_type)
    return []


def allowed_values(request: Request[Any, Any, Any], field: str) -> list[str]:
    """The values ``field`` of this request's operation accepts, when it is an enumeration."""
    handler = request.route_handler
    annotation: Any
    if field.startswith("$"):
        data = getattr(handler, "parsed_data_field", None)
        if data is None:
            return []
        annotation, path = data.annotation, field[1:]
    else:
        _, _, name = field.partition(".")
        parameters = handler.parsed_fn_signature.parameters
        parameter = parameters.get(name) or next(
            (p for p in parameters.values() if getattr(p.kwarg_definition, "query", None) == name),
            None,
        )
        if parameter is None:
            return []
        annotation, path = parameter.annotation, ""
    try:
        info: msgspec.inspect.Type | None = msgspec.inspect.type_info(annotation)
    except (TypeError, ValueError):
        return []
    for name, index in _SEGMENT.findall(path):
        if info is None:
            return []
        info = _step(info, name or None, index or None)
    values = [] if info is None else list(dict.fromkeys(_values(info)))
    return values if len(values) <= MAX_LISTED else []
