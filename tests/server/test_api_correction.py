"""The sender corrects a wrong reading: ``POST /api/images/<pk>/correction/``.

The edit token of the create answer (header ``X-Edit-Token``, as for a delete) or a
staff login lets a client say what is written (``expression``) and which read
symbols became what (``symbols``). The machine's reading stays as it was; the
correction is stored beside it and computed afresh (``correction``). Every refusal is
a 4xx with a stable code, and changes nothing.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from drf_spectacular.generators import SchemaGenerator

from resolver import services
from resolver.models import Image
from resolver.serializers import ANSWER_FIELDS, CORRECTION_FIELDS
from tests.server.test_contract import check
from tests.support.images import data_url, expression_image

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = "/api/images/create/"
REFUSED = {
    "detail": (
        "Correcting this image needs the edit token from the answer that created it "
        "(header X-Edit-Token), or a staff login."
    ),
    "code": "permission_denied",
}
PATH = "/api/images/{id}/correction/"


def url(pk: int, suffix: str = "/") -> str:
    return f"/api/images/{pk}/correction{suffix}"


@pytest.fixture
def created(api_client) -> dict:
    """A stored image as its sender got it: the fake reading ``1+2`` (three symbols)."""
    payload = {"image": data_url(expression_image("png", size=(120, 60), text="1+2"))}
    response = api_client.post(CREATE, payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def correct(client, image: dict, body, *, token: str | None = "", **kwargs):
    """POST a correction of ``image`` with its token (``token=None``: without one)."""
    headers = {} if token is None else {"HTTP_X_EDIT_TOKEN": token or image["edit_token"]}
    kwargs.setdefault("format", "json")
    return client.post(url(image["pk"]), body, **headers, **kwargs)


def machine_reading(pk: int) -> dict:
    """Every stored field but the correction's."""
    row = Image.objects.filter(pk=pk).values().get()
    return {key: value for key, value in row.items() if not key.startswith("corrected_")}


def stored(pk: int) -> dict:
    return Image.objects.filter(pk=pk).values().get()


# --- a correction and its answer ----------------------------------------------------


def test_a_correction_is_stored_beside_the_reading_and_computed(api_client, created):
    before = machine_reading(created["pk"])
    body = {"expression": "7 + 2", "symbols": [{"index": 0, "symbol": "7"}]}
    response = correct(api_client, created, body)
    assert response.status_code == 200, response.content
    answer = response.json()
    # the machine's reading, unchanged
    for key in ANSWER_FIELDS:
        assert answer[key] == created[key], key
    assert answer["expression"] == "1+2"
    assert answer["steps"] == ["1 + 2", "3"]
    # the correction beside it
    assert answer["corrected_expression"] == "7+2"
    assert answer["corrected_symbols"] == [{"index": 0, "symbol": "7"}]
    assert answer["corrected_at"] is not None
    assert answer["correction"] == {
        "status": "solved",
        "expression": "7+2",
        "latex": "7 + 2",
        "result": "9",
        "result_decimal": "9",
        "verdict": None,
        "computations": [
            {"name": "Expression", "result": "7 + 2"},
            {"name": "Result", "result": "9"},
        ],
        "steps": ["7 + 2", "9"],
        "error": None,
        "message": "7+2 = 9",
    }
    assert set(answer) == {*ANSWER_FIELDS, *CORRECTION_FIELDS}  # never the token
    row = stored(created["pk"])
    assert machine_reading(created["pk"]) == before
    assert row["corrected_expression"] == "7+2"
    assert row["corrected_symbols"] == [{"index": 0, "symbol": "7"}]


@pytest.mark.parametrize(
    ("typed", "canonical", "result", "verdict"),
    [
        ("12+7*3=", "12+7*3=", "33", None),
        ("12 + 7 × 3 =", "12+7*3=", "33", None),
        ("12+7x3", "12+7*3", "33", None),
        ("7 ÷ 2", "7/2", "7/2", None),
        ("(2+3)[4]", "(2+3)[4]", "20", None),
        ("3 + 4 = 8", "3+4=8", "7", False),
        ("2*3>=5", "2*3>=5", "6", True),
        ("2 × 3 ≤ 5", "2*3<=5", "6", False),
        ("1 != 2", "1!=2", "1", True),
        ("1 ≠ 2", "1!=2", "1", True),
    ],
)
def test_the_expression_is_read_like_an_answer_writes_it(
    api_client, created, typed, canonical, result, verdict
):
    response = correct(api_client, created, {"expression": typed})
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["corrected_expression"] == canonical
    assert answer["correction"]["result"] == result
    assert answer["correction"]["verdict"] is verdict
    assert answer["corrected_symbols"] == []


def test_the_steps_of_the_correction_follow_the_order_of_operations(api_client, created):
    answer = correct(api_client, created, {"expression": "3 + 4 = 8"}).json()
    assert answer["correction"]["steps"] == ["3 + 4 = 8", "7 = 8", r"7 \neq 8"]
    assert answer["correction"]["message"] == "The equation is false: its sides are 7, 8."


def test_a_correction_that_divides_by_zero_is_stored(api_client, created):
    answer = correct(api_client, created, {"expression": "1/0"}).json()
    assert answer["corrected_expression"] == "1/0"
    assert answer["correction"]["status"] == "recognized"
    assert answer["correction"]["error"] == "division_by_zero"
    assert answer["correction"]["steps"] == []


def test_a_second_correction_replaces_the_first(api_client, created):
    first = {"expression": "7+2", "symbols": [{"index": 0, "symbol": "7"}]}
    assert correct(api_client, created, first).status_code == 200
    changes = [{"index": 2, "symbol": "3"}]
    second = correct(api_client, created, {"expression": "1+3", "symbols": changes})
    assert second.status_code == 200
    assert second.json()["corrected_expression"] == "1+3"
    assert second.json()["corrected_symbols"] == [{"index": 2, "symbol": "3"}]
    third = correct(api_client, created, {"expression": "1+2"})
    assert third.json()["corrected_symbols"] == []
    assert stored(created["pk"])["corrected_expression"] == "1+2"


def test_symbol_changes_are_stored_sorted_by_index(api_client, created):
    changes = [
        {"index": 2, "symbol": "5"},
        {"index": 0, "symbol": "7"},
        {"index": 1, "symbol": "-"},
    ]
    body = {"expression": "7-5", "symbols": changes}
    answer = correct(api_client, created, body).json()
    assert [change["index"] for change in answer["corrected_symbols"]] == [0, 1, 2]


def test_reject_says_a_read_symbol_was_no_symbol(api_client, created):
    body = {"expression": "12", "symbols": [{"index": 1, "symbol": "reject"}]}
    answer = correct(api_client, created, body).json()
    assert answer["corrected_symbols"] == [{"index": 1, "symbol": "reject"}]


def test_the_json_suffix_and_a_form_encoded_body_work(api_client, client, created):
    response = api_client.post(
        url(created["pk"], ".json"),
        {"expression": "7+2"},
        format="json",
        HTTP_X_EDIT_TOKEN=created["edit_token"],
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    form = urlencode({"expression": "7 + 2", "symbols": '[{"index": 0, "symbol": "7"}]'})
    response = client.post(
        url(created["pk"]),
        form,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_EDIT_TOKEN=created["edit_token"],
    )
    assert response.status_code == 200, response.content
    assert response.json()["corrected_symbols"] == [{"index": 0, "symbol": "7"}]


def test_staff_correct_without_a_token(admin_client_api, created):
    response = correct(admin_client_api, created, {"expression": "7+2"}, token=None)
    assert response.status_code == 200, response.content
    unknown = admin_client_api.post(url(999999), {"expression": "7+2"}, format="json")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Not found.", "code": "not_found"}


def test_admins_see_the_correction_in_the_list_and_the_detail_never_the_token(
    api_client, admin_client_api, created
):
    correct(api_client, created, {"expression": "7+2", "symbols": [{"index": 0, "symbol": "7"}]})
    listed = admin_client_api.get("/api/images/").json()["results"][0]
    shown = admin_client_api.get(f"/api/images/{created['pk']}/").json()
    for answer in (listed, shown):
        assert answer["corrected_expression"] == "7+2"
        assert answer["corrected_symbols"] == [{"index": 0, "symbol": "7"}]
        assert answer["correction"]["result"] == "9"
        assert answer["expression"] == "1+2"
        assert "edit_token" not in answer
        assert created["edit_token"] not in json.dumps(answer)


def test_an_uncorrected_image_says_so(admin_client_api, created):
    shown = admin_client_api.get(f"/api/images/{created['pk']}/").json()
    assert shown["corrected_expression"] == ""
    assert shown["corrected_symbols"] == []
    assert shown["corrected_at"] is None
    assert shown["correction"] is None
    assert shown["steps"] == ["1 + 2", "3"]


def test_the_create_answer_is_unchanged_by_corrections(created):
    assert set(created) == {*ANSWER_FIELDS, "edit_token"}


# --- refusals: a 4xx with a stable code, and nothing changes ------------------------

#: (body, how it is sent, status, where the message is, code)
REFUSALS = {
    "no-token": ({"expression": "7+2"}, {"token": None}, 403, "detail", "permission_denied"),
    "wrong-token": ({"expression": "7+2"}, {"token": "wrong"}, 403, "detail",
                    "permission_denied"),
    "missing-expression": ({"symbols": []}, {}, 400, "expression", "required"),
    "empty-expression": ({"expression": ""}, {}, 400, "expression", "blank"),
    "blank-expression": ({"expression": "  \t"}, {}, 400, "expression", "blank"),
    "null-expression": ({"expression": None}, {}, 400, "expression", "null"),
    "number-expression": ({"expression": 12}, {}, 400, "expression", "invalid"),
    "list-expression": ({"expression": ["1"]}, {}, 400, "expression", "invalid"),
    "incomplete": ({"expression": "3+"}, {}, 400, "expression", "malformed"),
    "unclosed": ({"expression": "(2"}, {}, 400, "expression", "malformed"),
    "letter": ({"expression": "2+a"}, {}, 400, "expression", "malformed"),
    "python": ({"expression": "__import__('os')"}, {}, 400, "expression", "malformed"),
    "question-mark": ({"expression": "1+?"}, {}, 400, "expression", "malformed"),
    "long-number": ({"expression": "1" * 31}, {}, 400, "expression", "too_large"),
    "many-symbols": ({"expression": "1+" * 150 + "1"}, {}, 400, "expression", "too_large"),
    "deep": ({"expression": "(" * 9 + "1" + ")" * 9}, {}, 400, "expression", "too_large"),
    "symbols-null": ({"expression": "1", "symbols": None}, {}, 400, "symbols", "null"),
    "symbols-object": ({"expression": "1", "symbols": {"index": 0, "symbol": "7"}}, {}, 400,
                       "symbols", "not_a_list"),
    "symbols-string": ({"expression": "1", "symbols": "[]"}, {}, 400, "symbols", "not_a_list"),
    "item-number": ({"expression": "1", "symbols": [5]}, {}, 400, "symbols", "invalid"),
    "index-string": ({"expression": "1", "symbols": [{"index": "0", "symbol": "7"}]}, {}, 400,
                     "symbols", "invalid"),
    "index-bool": ({"expression": "1", "symbols": [{"index": True, "symbol": "7"}]}, {}, 400,
                   "symbols", "invalid"),
    "index-float": ({"expression": "1", "symbols": [{"index": 0.0, "symbol": "7"}]}, {}, 400,
                    "symbols", "invalid"),
    "no-symbol": ({"expression": "1", "symbols": [{"index": 0}]}, {}, 400, "symbols",
                  "invalid"),
    "extra-key": ({"expression": "1", "symbols": [{"index": 0, "symbol": "7", "x": 1}]}, {},
                  400, "symbols", "invalid"),
    "index-past-end": ({"expression": "1", "symbols": [{"index": 3, "symbol": "7"}]}, {}, 400,
                       "symbols", "index_out_of_range"),
    "index-negative": ({"expression": "1", "symbols": [{"index": -1, "symbol": "7"}]}, {}, 400,
                       "symbols", "index_out_of_range"),
    "unknown-class": ({"expression": "1", "symbols": [{"index": 0, "symbol": "a"}]}, {}, 400,
                      "symbols", "unknown_symbol"),
    "alias-not-a-class": ({"expression": "1", "symbols": [{"index": 1, "symbol": "*"}]}, {},
                          400, "symbols", "unknown_symbol"),
    "twice": ({"expression": "1", "symbols": [{"index": 0, "symbol": "7"},
                                              {"index": 0, "symbol": "1"}]}, {}, 400,
              "symbols", "duplicate_index"),
    "not-an-object": ([{"expression": "1"}], {}, 400, "non_field_errors", "invalid"),
    "bad-json": ("{not json", {"content_type": "application/json"}, 400, "detail",
                 "parse_error"),
    "bad-form-json": ("expression=1&symbols=%5B", {"content_type":
                      "application/x-www-form-urlencoded"}, 400, "symbols", "invalid_json"),
    "plain-text": ("expression=1", {"content_type": "text/plain"}, 415, "detail",
                   "unsupported_media_type"),
    "multipart": ({"expression": "1"}, {"format": "multipart"}, 415, "detail",
                  "unsupported_media_type"),
    "too-large": ({"expression": "1" + " " * 70_000}, {}, 413, "detail", "too_large"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "how", "status", "where", "code"), REFUSALS.values(), ids=REFUSALS.keys()
)
def test_a_refused_correction_is_a_clear_error_and_changes_nothing(
    api_client, client, created, body, how, status, where, code
):
    earlier = {"expression": "7+2", "symbols": [{"index": 0, "symbol": "7"}]}
    assert correct(api_client, created, earlier).status_code == 200
    before = stored(created["pk"])
    how = dict(how)
    token = how.pop("token", "")
    sender = client if "content_type" in how else api_client
    if "content_type" in how:
        how["HTTP_X_EDIT_TOKEN"] = token or created["edit_token"]
        response = sender.post(url(created["pk"]), body, **how)
    else:
        response = correct(sender, created, body, token=token, **how)
    assert response.status_code == status, response.content
    answer = response.json()
    if where in ("detail", "non_field_errors") and "codes" not in answer:
        assert answer["code"] == code
        assert isinstance(answer["detail"], str)
        assert answer["detail"]
    else:
        assert answer["codes"] == {where: [code]}
        assert isinstance(answer[where][0], str)
        assert answer[where][0]
    assert stored(created["pk"]) == before


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("3+", "The expression ends where a number was expected."),
        ("2+a", "'a' is not a symbol of arithmetic."),
        ("1+?", "'?' is not a symbol of arithmetic."),
        ("(2", "A '(' is not closed by ')'."),
        ("1" * 31, "A number has more than 30 digits."),
        ("", "The expression is empty."),
    ],
)
def test_the_message_of_a_refused_expression_is_the_cores(api_client, created, expression, message):
    response = correct(api_client, created, {"expression": expression})
    assert response.status_code == 400
    assert response.json()["expression"] == [message]


def test_the_symbol_messages_say_which_change_is_wrong(api_client, created):
    changes = [{"index": 0, "symbol": "7"}, {"index": 5, "symbol": "1"}]
    body = {"expression": "1", "symbols": changes}
    response = correct(api_client, created, body)
    assert response.json()["symbols"] == [
        "Symbol change 1: the reading has no symbol 5 (it has 3, counted from 0)."
    ]
    body = {"expression": "1", "symbols": [{"index": 0, "symbol": "x"}]}
    message = correct(api_client, created, body).json()["symbols"][0]
    assert message.startswith('Symbol change 0: "x" is not a symbol class; use one of 0 1 2')


def test_the_token_of_another_image_is_refused(api_client, created):
    other = api_client.post(
        CREATE, {"image": data_url(expression_image("png", size=(60, 20)))}, format="json"
    ).json()
    response = correct(api_client, created, {"expression": "7+2"}, token=other["edit_token"])
    assert response.status_code == 403
    assert response.json() == REFUSED
    assert stored(created["pk"])["corrected_expression"] == ""


def test_an_unknown_or_deleted_image_is_refused_like_a_delete(api_client, created):
    """Without staff rights, 403 as for a wrong token: existence does not leak."""
    token = {"HTTP_X_EDIT_TOKEN": created["edit_token"]}
    unknown = api_client.post(url(999999), {"expression": "1"}, format="json", **token)
    assert unknown.status_code == 403
    assert unknown.json() == REFUSED
    assert api_client.delete(f"/api/images/{created['pk']}/", **token).status_code == 204
    deleted = correct(api_client, created, {"expression": "7+2"})
    assert deleted.status_code == 403
    assert deleted.json() == REFUSED


def test_an_image_deleted_while_it_is_corrected_is_404(api_client, created, monkeypatch):
    real = services.image_correct

    def deleted_meanwhile(*, image, **kwargs):
        Image.objects.filter(pk=image.pk).delete()
        return real(image=image, **kwargs)

    monkeypatch.setattr("resolver.api.image_correct", deleted_meanwhile)
    response = correct(api_client, created, {"expression": "7+2"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_corrections_are_throttled_like_creates(api_client, created, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1/min", "user": "1/min"},
    }
    first = correct(api_client, created, {"expression": "7+2"})
    assert first.status_code == 429  # the create before it used the one request a minute
    assert first.json()["code"] == "throttled"
    assert "Retry-After" in first
    assert stored(created["pk"])["corrected_expression"] == ""


# --- the service ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "symbols"),
    [
        ("3+", []),
        ("", []),
        ("2+a", []),
        ("1", [{"index": 3, "symbol": "7"}]),
        ("1", [{"index": -1, "symbol": "7"}]),
        ("1", [{"index": 0, "symbol": "a"}]),
        ("1", [{"index": 0, "symbol": "7"}, {"index": 0, "symbol": "1"}]),
    ],
)
def test_the_service_refuses_what_the_api_refuses(created, expression, symbols):
    image = Image.objects.get(pk=created["pk"])
    with pytest.raises(ValueError, match=r"."):
        services.image_correct(image=image, expression=expression, symbols=symbols)
    assert stored(created["pk"])["corrected_expression"] == ""


def test_the_service_never_writes_the_reading(created):
    image = Image.objects.get(pk=created["pk"])
    image.expression = "changed in memory"
    services.image_correct(image=image, expression="7+2", symbols=[{"index": 0, "symbol": "7"}])
    assert stored(created["pk"])["expression"] == "1+2"
    assert stored(created["pk"])["corrected_expression"] == "7+2"


# --- the schema documents every answer --------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_answers_are_documented(schema, api_client, admin_client_api, created):
    good = correct(api_client, created, {"expression": "7+2"})
    body = check(schema, good, PATH, "post", 200)
    assert body["correction"]["result"] == "9"
    bad = correct(api_client, created, {"expression": "3+"})
    assert check(schema, bad, PATH, "post", 400)["codes"] == {"expression": ["malformed"]}
    changes = [{"index": 9, "symbol": "7"}]
    bad = correct(api_client, created, {"expression": "1", "symbols": changes})
    assert check(schema, bad, PATH, "post", 400)["codes"] == {"symbols": ["index_out_of_range"]}
    not_object = correct(api_client, created, [1])
    assert check(schema, not_object, PATH, "post", 400)["codes"] == {
        "non_field_errors": ["invalid"]
    }
    refused = correct(api_client, created, {"expression": "1"}, token=None)
    assert check(schema, refused, PATH, "post", 403) == REFUSED
    unknown = admin_client_api.post(url(999999), {"expression": "1"}, format="json")
    assert check(schema, unknown, PATH, "post", 404)["code"] == "not_found"
    large = correct(api_client, created, {"expression": " " * 70_000})
    assert check(schema, large, PATH, "post", 413)["code"] == "too_large"
    token = {"HTTP_X_EDIT_TOKEN": created["edit_token"]}
    plain = api_client.post(url(created["pk"]), "1", content_type="text/plain", **token)
    assert check(schema, plain, PATH, "post", 415)["code"] == "unsupported_media_type"
    operation = schema["paths"][PATH]["post"]
    assert {} in operation["security"]  # the edit token needs no login
    assert any(p["name"] == "X-Edit-Token" and p["in"] == "header" for p in operation["parameters"])
    assert {"application/json", "application/x-www-form-urlencoded"} == set(
        operation["requestBody"]["content"]
    )


def test_an_empty_symbols_field_in_a_form_means_none(client, created):
    response = client.post(
        url(created["pk"]),
        "expression=7%2B2&symbols=",
        content_type="application/x-www-form-urlencoded",
        HTTP_X_EDIT_TOKEN=created["edit_token"],
    )
    assert response.status_code == 200, response.content
    assert response.json()["corrected_symbols"] == []
