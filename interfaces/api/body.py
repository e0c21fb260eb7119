"""Request bodies: a body that is not JSON is a 415, malformed JSON a 400 (so are a
duplicated key and nesting deeper than any request needs); every missing or wrong-typed
field is listed in one 422. Types are strict: no string is read as a number, and no
number as a time.

msgspec stops at the first error, so when a body does not convert, it is walked field by
field against the struct to report them all. Litestar then decodes the (cached) body into
the handler's `data` as usual. The caller is authenticated before any of this (see auth.py):
an unauthenticated body is never read.
"""

import types
from collections.abc import Callable
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException

from application.errors import ApplicationError, ValidationFailed, problem
from domain.text import escaped
from interfaces.api.duplicate_keys import has_duplicate_keys

# No request needs more than a few levels (a campaign: body, recipients, recipient,
# variables); deeper ones are refused before anything walks them.
MAX_DEPTH = 32
SHOWN_LEVELS = 3  # of a wrong-typed value shown back in a problem


class MalformedBody(ApplicationError):
    code = "malformed_json"


class DuplicateKey(MalformedBody):
    code = "duplicate_key"


class NestedTooDeeply(MalformedBody):
    code = "nested_too_deeply"


class NotJson(ApplicationError):
    code = "unsupported_media_type"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _unannotated(tp: Any) -> Any:
    """`T` of `Annotated[T, ...]` (constraints and schema notes), else `tp`."""
    return get_args(tp)[0] if get_origin(tp) is Annotated else tp


def _is_struct(tp: Any) -> bool:
    tp = _unannotated(tp)
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _optional_struct_list(tp: Any) -> Any:
    """The struct type T of `list[T]` or `list[T] | None` (either maybe Annotated), else None."""
    tp = _unannotated(tp)
    candidates = get_args(tp) if get_origin(tp) in (Union, types.UnionType) else (tp,)
    for candidate in map(_unannotated, candidates):
        if get_origin(candidate) is list and _is_struct(get_args(candidate)[0]):
            return _unannotated(get_args(candidate)[0])
    return None


def _shown(value: Any, levels: int = SHOWN_LEVELS) -> Any:
    """A wrong-typed value as shown back: what is nested deeper than `levels` is elided."""
    if isinstance(value, dict):
        return {k: _shown(v, levels - 1) for k, v in value.items()} if levels else "…"
    if isinstance(value, list):
        return [_shown(v, levels - 1) for v in value] if levels else "…"
    return value


def collect_problems(value: Any, tp: Any, path: str, out: list[dict[str, Any]]) -> None:
    if _is_struct(tp):
        tp = _unannotated(tp)
        if not isinstance(value, dict):
            out.append(problem(path or "body", _shown(value), "wrong_type", "must be an object"))
            return
        for field in msgspec.structs.fields(tp):
            field_path = _join(path, field.encode_name)
            if field.encode_name not in value:
                if field.required:
                    out.append(problem(field_path, None, "required", "is required"))
                continue
            collect_problems(value[field.encode_name], field.type, field_path, out)
        if tp.__struct_config__.forbid_unknown_fields:
            known = {field.encode_name for field in msgspec.structs.fields(tp)}
            for name in value:
                if name not in known:
                    out.append(
                        problem(
                            _join(path, escaped(name)),
                            _shown(value[name]),
                            "unknown_field",
                            "is not a field of this request",
                        )
                    )
        return
    item_type = _optional_struct_list(tp)
    if item_type is not None and isinstance(value, list):
        for index, item in enumerate(value):
            before = len(out)
            collect_problems(item, item_type, f"{path}[{index}]", out)
            for found in out[before:]:
                found.setdefault("index", index)
        return
    try:
        msgspec.convert(value, tp, strict=True)
    except msgspec.ValidationError as error:
        message = str(error).split(" - at ")[0]
        out.append(problem(path, _shown(value), "wrong_type", message))


# Checks of the raw value that still make sense when some fields have the wrong type, so
# that one 422 lists those problems too (e.g. every malformed phone beside a wrong type).
ValueChecks = Callable[[Request[Any, Any, Any], Any], list[dict[str, Any]]]


def check_value(
    value: Any, tp: Any, more: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]] = list
) -> None:
    """Raise ValidationFailed, listing every problem, unless `value` converts to `tp`."""
    try:
        # strict: "5" is not 5, and 1700000000 is not a time.
        msgspec.convert(value, tp, strict=True)
        return
    except msgspec.ValidationError:
        pass
    if _nested_deeper_than(value, MAX_DEPTH):
        raise NestedTooDeeply(f"the body is nested more than {MAX_DEPTH} levels deep")
    problems: list[dict[str, Any]] = []
    collect_problems(value, tp, "", problems)
    problems += more() if callable(more) else more
    raise ValidationFailed("the request has invalid fields", problems)


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Level by level rather than recursively, so no depth can exhaust the stack."""
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        level = [
            child
            for container in level
            for child in (container.values() if isinstance(container, dict) else container)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def is_json(content_type: tuple[str, dict[str, str]]) -> bool:
    """application/json or application/*+json, in UTF-8 (JSON's only encoding)."""
    media_type, options = content_type
    media_type = media_type.lower()
    json_type = media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )
    return json_type and options.get("charset", "utf-8").lower() in ("utf-8", "utf8")


async def read_json(request: Request[Any, Any, Any]) -> Any:
    """The body's JSON value, or a 415 / 400 (413 from Litestar when it is too large)."""
    if not is_json(request.content_type):
        raise NotJson("send the body as application/json")
    raw = await request.body()
    try:
        # Litestar caches the decoded body; the handler's `data` is converted from it.
        value = await request.json()
        duplicated = has_duplicate_keys(raw, value)
    except SerializationException as error:
        raise MalformedBody(f"the body is not valid JSON: {error}") from None
    except RecursionError:
        raise NestedTooDeeply(f"the body is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as error:  # invalid UTF-8 inside a string
        raise MalformedBody(f"the body is not valid JSON: {error}") from None
    if duplicated:
        raise DuplicateKey("the body has an object with a duplicated key")
    return value


def validate_body(tp: Any, also: ValueChecks | None = None) -> Any:
    """A before_request hook that checks the body against `tp` before Litestar decodes it."""

    async def hook(request: Request[Any, Any, Any]) -> None:
        value = await read_json(request)
        check_value(value, tp, (lambda: also(request, value)) if also else list)

    return hook
