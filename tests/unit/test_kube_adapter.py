"""Translation of the official client's `ApiException` into the port's exceptions."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import urllib3
from kubernetes.client import ApiException

from notifier import (
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidError,
    KubeApiError,
    KubeTimeoutError,
    KubeUnavailableError,
    NotFoundError,
)
from notifier._adapters import translate_api_exception, translate_transport_error


def _status(code: int, reason: str, message: str = "m", **details: object) -> str:
    return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code,
                       "reason": reason, "message": message, "details": details})


def _from_response(status: int, reason: str, body: str) -> ApiException:
    response = SimpleNamespace(status=status, reason=reason, data=body.encode(), headers={})
    return ApiException(http_resp=response)


@pytest.mark.parametrize(("code", "reason", "expected"), [
    (404, "NotFound", NotFoundError),
    (409, "AlreadyExists", AlreadyExistsError),
    (409, "Conflict", ConflictError),
    (422, "Invalid", InvalidError),
    (410, "Expired", GoneError),
    (410, "Gone", GoneError),
    (403, "Forbidden", ForbiddenError),
    (400, "BadRequest", BadRequestError),
    (504, "Timeout", KubeTimeoutError),
    (503, "ServiceUnavailable", KubeUnavailableError),
])
def test_status_body_maps_to_the_port_exception(code: int, reason: str, expected: type[KubeApiError]) -> None:
    error = translate_api_exception(_from_response(code, reason, _status(code, reason, "said the server")))
    assert type(error) is expected
    assert (error.code, error.reason, error.message) == (code, reason, "said the server")


def test_conflict_and_already_exists_share_409_but_not_the_exception() -> None:
    conflict = translate_api_exception(_from_response(409, "Conflict", _status(409, "Conflict")))
    exists = translate_api_exception(_from_response(409, "Conflict", _status(409, "AlreadyExists")))
    assert isinstance(conflict, ConflictError) and isinstance(exists, AlreadyExistsError)


def test_invalid_keeps_the_field_causes() -> None:
    causes = [{"reason": "FieldValueNotSupported", "message": "Unsupported value", "field": "spec.priority"}]
    body = _status(422, "Invalid", "x is invalid", name="n1", kind="NotificationRequest", causes=causes)
    error = translate_api_exception(_from_response(422, "Unprocessable Entity", body))
    assert isinstance(error, InvalidError) and error.causes() == causes


def test_exception_without_body_maps_by_status_code() -> None:
    error = translate_api_exception(ApiException(status=404, reason="Not Found"))
    assert isinstance(error, NotFoundError) and error.code == 404 and error.message == "Not Found"


def test_exception_with_non_json_body_maps_by_status_code() -> None:
    error = translate_api_exception(_from_response(500, "Internal Server Error", "<html>oops</html>"))
    assert isinstance(error, KubeUnavailableError) and error.code == 500


def test_unknown_4xx_is_a_plain_kube_api_error_with_its_code() -> None:
    error = translate_api_exception(_from_response(418, "Teapot", _status(418, "Teapot")))
    assert type(error) is KubeApiError and error.code == 418 and error.reason == "Teapot"


def test_long_remote_messages_are_cut_to_256_characters() -> None:
    error = translate_api_exception(_from_response(409, "Conflict", _status(409, "Conflict", "x" * 1000)))
    assert len(error.message) == 256


def test_translated_error_keeps_the_api_exception_as_cause() -> None:
    original = ApiException(status=409, reason="Conflict")
    assert translate_api_exception(original).__cause__ is original


def test_read_timeout_is_a_timeout_and_connection_failure_is_unavailable() -> None:
    timeout = translate_transport_error(urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out"))
    refused = translate_transport_error(urllib3.exceptions.NewConnectionError(None, "refused"))
    assert isinstance(timeout, KubeTimeoutError) and timeout.code == 0
    assert isinstance(refused, KubeUnavailableError) and refused.code == 0
