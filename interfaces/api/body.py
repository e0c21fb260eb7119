"""Request bodies: malformed JSON is a 400; every missing or wrong-typed field is listed in one 422.

msgspec stops at the first error, so when a body does not convert, it is walked field by
field against the struct to report them all. Litestar then decodes the (cached) body into
the handler's `data` as usual.
"""

import types
from collections.abc import Callable
from typing import Any, Union, get_args, get_origin

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException

from application.errors import ApplicationError, ValidationFailed, problem


class MalformedBody(ApplicationError):
    code = "malformed_json"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _optional_struct_list(tp: Any) -> Any:
    """The struct type T of `list[T]` or `list[T] | None`, else None."""
    candidates = get_args(tp) if get_origin(tp) in (Union, types.UnionType) else (tp,)
    for candidate in candidates:
        if get_origin(candidate) is list and _is_struct(get_args(candidate)[0]):
            return get_args(candidate)[0]
    return None


def collect_problems(value: Any, tp: Any, path: str, out: list[dict[str, Any]]) -> None:
    if _is_struct(tp):
        if not isinstance(value, dict):
            out.append(problem(path or "body", value, "wrong_type", "must be an object"))
            return
        for field in msgspec.structs.fields(tp):
            field_path = _join(path, field.encode_name)
            if field.encode_name not in value:
                if field.required:
                    out.append(problem(field_path, None, "required", "is required"))
                continue
            collect_problems(value[field.encode_name], field.type, field_path, out)
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
        msgspec.convert(value, tp, strict=False)
    except msgspec.ValidationError as error:
        message = str(error).split(" - at ")[0]
        out.append(problem(path, value, "wrong_type", message))


# Checks of the raw value that still make sense when some fields have the wrong type, so
# that one 422 lists those problems too (e.g. every malformed phone beside a wrong type).
ValueChecks = Callable[[Request[Any, Any, Any], Any], list[dict[str, Any]]]


def check_value(
    value: Any, tp: Any, more: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]] = list
) -> None:
    """Raise ValidationFailed, listing every problem, unless `value` converts to `tp`."""
    try:
        msgspec.convert(value, tp, strict=False)
        return
    except msgspec.ValidationError:
        pass
    problems: list[dict[str, Any]] = []
    collect_problems(value, tp, "", problems)
    problems += more() if callable(more) else more
    raise ValidationFailed("the request has invalid fields", problems)


def validate_body(tp: Any, also: ValueChecks | None = None) -> Any:
    """A before_request hook that checks the body against `tp` before Litestar decodes it."""

    async def hook(request: Request[Any, Any, Any]) -> None:
        try:
            # Litestar caches the decoded body; the handler's `data` is converted from it.
            value = await request.json()
        except SerializationException as error:
            raise MalformedBody(f"the body is not valid JSON: {error}") from None
        check_value(value, tp, (lambda: also(request, value)) if also else list)

    return hook
