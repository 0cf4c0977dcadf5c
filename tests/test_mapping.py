"""Response mapping on real-looking helpdesk responses."""

from __future__ import annotations

import json

import pytest

from engine.mapping import map_records, split_alternatives, substitute_path_variables
from engine.paths import gjson

# RT 5 REST2 user search (shape from /work/shared/reference/helpdesks.md), 3 contacts
RT_USERS = json.dumps({
    "total": 3, "count": 3, "page": 1, "pages": 1, "per_page": 20,
    "items": [
        {"id": "alice@example.com", "RealName": "Alice Anders", "EmailAddress": "alice@example.com",
         "Organization": "Acme", "WorkPhone": "+15550100", "MobilePhone": "+15550101",
         "CustomFields": [{"id": "2", "name": "Phone", "values": ["+15550100", "+15550101"]}]},
        {"id": "bob@example.com", "RealName": "Bob Brown", "EmailAddress": "bob@example.com",
         "CustomFields": [{"id": "2", "name": "Phone", "values": ["+15550200"]}]},
        {"id": "carol@example.com", "RealName": "", "EmailAddress": "carol@example.com",
         "Organization": "Globex", "MobilePhone": "+15550301",
         "CustomFields": []},
    ],
}, indent=2)

# a Zendesk-like search with nested identities
IDENTITIES = """{
  "users": [
    {"id": 501, "name": "Dora \\"Dee\\" Díaz", "identities": [
       {"type": "email", "value": "dora@example.com"},
       {"type": "phone_number", "value": "+49 30 1111"},
       {"type": "phone_number", "value": "+49 170 2222"}]},
    {"id": 502, "name": "Eve", "identities": [{"type": "phone_number", "value": "+49 30 3333"}]}
  ]
}"""


def test_split_alternatives():
    assert split_alternatives("a.b, c.d ,e") == ["a.b", "c.d", "e"]
    assert split_alternatives('data.#(name=="A, B").id, x') == ['data.#(name=="A, B").id', "x"]
    assert split_alternatives("[a,b],{c:d,e:f}") == ["[a,b]", "{c:d,e:f}"]
    assert split_alternatives("a\\,b,c") == ["a\\,b", "c"]
    assert split_alternatives('users.#(phone=="{{.Phone}}").id, {{ .X }}') == [
        'users.#(phone=="{{.Phone}}").id', "{{ .X }}"]
    assert split_alternatives("") == []
    assert split_alternatives(" , ") == []


def test_records_zipped_by_index_with_missing_fields():
    res = map_records(RT_USERS, {
        "ContactId": "items.#.id",
        "FirstName": "items.#.RealName, items.#.EmailAddress",
        "Company": "items.#.Organization",
        "MobileNumber": "items.#.MobilePhone, items.#.CustomFields.0.values.1",
        "BusinessNumber": "items.#.WorkPhone, items.#.CustomFields.0.values.0",
    }, required=["ContactId", "FirstName"])
    assert res.records == [
        {"ContactId": "alice@example.com", "FirstName": "Alice Anders", "Company": "Acme",
         "MobileNumber": "+15550101", "BusinessNumber": "+15550100"},
        # Bob has no Organization: his record stays aligned (Go's items.#.Organization alone would shift Carol up)
        {"ContactId": "bob@example.com", "FirstName": "Bob Brown", "Company": "",
         "MobileNumber": "", "BusinessNumber": "+15550200"},
        # Carol's RealName is empty: the next alternative wins for her only
        {"ContactId": "carol@example.com", "FirstName": "carol@example.com", "Company": "Globex",
         "MobileNumber": "+15550301", "BusinessNumber": ""},
    ]
    assert res.ok and res.missing_required == []
    first = res.fields["FirstName"]
    assert first.matched == [0, 0, 1]
    assert first.alternatives[0].per_record and first.alternatives[0].values == ["Alice Anders", "Bob Brown", ""]
    assert res.fields["BusinessNumber"].matched == [0, 1, None]


def test_missing_required_is_reported_per_record():
    res = map_records(RT_USERS, {"ContactId": "items.#.id", "FirstName": "items.#.RealName"},
                      required=["ContactId", "FirstName", "Email"])
    assert [(m.record, m.field) for m in res.missing_required] == [(0, "Email"), (1, "Email"), (2, "FirstName"), (2, "Email")]
    carol = res.missing_required[2]
    assert carol.tried == ("items.#.RealName",)
    assert "record 3: required field FirstName is empty" in carol.message()
    assert not res.ok


def test_no_contacts_gives_no_records():
    empty = '{"items":[],"count":0,"pages":0.0,"page":1,"total":0,"per_page":20}'
    res = map_records(empty, {"ContactId": "items.#.id", "FirstName": "items.#.RealName"}, required=["ContactId"])
    assert res.records == [] and res.missing_required == []


def test_single_object_response_and_broadcast():
    single = '{"id":44,"Name":"dave@example.com","RealName":"Dave Diaz","MobilePhone":"+15550400"}'
    res = map_records(single, {"ContactId": "id", "FirstName": "RealName", "Email": "EmailAddress, Name"})
    assert res.records == [{"ContactId": "44", "FirstName": "Dave Diaz", "Email": "dave@example.com"}]
    # a single value applies to every record of a list response
    res = map_records(RT_USERS, {"ContactId": "items.#.id", "Total": "total"})
    assert [r["Total"] for r in res.records] == ["3", "3", "3"]


def test_nested_phone_arrays_with_queries():
    res = map_records(IDENTITIES, {
        "ContactId": "users.#.id",
        "FirstName": "users.#.name",
        "BusinessNumber": 'users.#.identities.#(type=="phone_number").value',
        "BusinessNumber2": 'users.#.identities.#(type=="phone_number")#|1.value',
        "Email": 'users.#.identities.#(type=="email").value',
    })
    assert res.records == [
        {"ContactId": "501", "FirstName": 'Dora "Dee" Díaz', "BusinessNumber": "+49 30 1111",
         "BusinessNumber2": "+49 170 2222", "Email": "dora@example.com"},
        {"ContactId": "502", "FirstName": "Eve", "BusinessNumber": "+49 30 3333",
         "BusinessNumber2": "", "Email": ""},
    ]
    # the official example: one record's second phone number
    one = json.dumps(json.loads(IDENTITIES)["users"][0])
    res = map_records(one, {"BusinessNumber2": 'identities.#(type=="phone_number")#|1.value'})
    assert res.records == [{"BusinessNumber2": "+49 170 2222"}]


def test_query_all_records():
    res = map_records(IDENTITIES, {"Phone": 'users.0.identities.#(type=="phone_number")#.value'})
    assert [r["Phone"] for r in res.records] == ["+49 30 1111", "+49 170 2222"]


def test_objects_and_arrays_become_go_strings():
    res = map_records(RT_USERS, {"Phones": "items.#.CustomFields.0.values", "Id": "items.#.id"})
    phones = [r["Phones"] for r in res.records]
    assert phones == [gjson.get(RT_USERS, f"items.{i}.CustomFields.0.values").raw for i in (0, 1)] + [""]
    # the raw JSON text, whitespace of the response kept
    assert json.loads(phones[0]) == ["+15550100", "+15550101"] and "\n" in phones[0]


@pytest.mark.parametrize("phone", ['+49 "30" 1234', "\\", 'a")#|@reverse', "x\\\"y", "*", "1) || (2"])
def test_hostile_variable_values_cannot_change_the_path(phone):
    doc = json.dumps({"contacts": [{"id": 1, "phone": "+49 30 1"}, {"id": 2, "phone": phone}]})
    for spec in ('contacts.#(phone=="{{.Phone}}").id', "contacts.#(phone=={{ .Phone }}).id",
                 'contacts.#(phone%"{{.Phone}}").id'):
        res = map_records(doc, {"ContactId": spec}, {"Phone": phone}, required=["ContactId"])
        assert res.records == [{"ContactId": "2"}], (spec, res.fields["ContactId"].alternatives[0].evaluated)
        assert gjson.path_problems(res.fields["ContactId"].alternatives[0].evaluated) == []


def test_substitute_path_variables():
    v = {"Phone": '+1 "2"', "Id": "a.b*", "N": 5, "Missing": None}
    assert substitute_path_variables('x.#(p=="{{.Phone}}").id', v) == 'x.#(p=="+1 \\"2\\"").id'
    assert substitute_path_variables("x.#(p=={{ .Phone }}).id", v) == 'x.#(p=="+1 \\"2\\"").id'
    assert substitute_path_variables("x.#(n=={{.N}}).id", v) == 'x.#(n=="5").id'
    assert substitute_path_variables("contacts.{{.Id}}.name", v) == "contacts.a\\.b\\*.name"
    assert substitute_path_variables("a.{{.Missing}}{{.Nope}}", v) == "a."
    assert substitute_path_variables("a.{{UrlEncode .Phone}}", v) == "a.{{UrlEncode .Phone}}"
    assert substitute_path_variables("{{- .N -}}", v) == "5"
    assert substitute_path_variables("plain.path", v) == "plain.path"


def test_number_query_with_quoted_variable_still_numeric():
    doc = '{"rows":[{"ext":101,"name":"a"},{"ext":102,"name":"b"}]}'
    res = map_records(doc, {"Name": "rows.#(ext=={{.Ext}}).name"}, {"Ext": 102})
    assert res.records == [{"Name": "b"}]


def test_jsonpath_alternatives():
    res = map_records(RT_USERS, {
        "ContactId": "$.items[*].id",
        "Company": "$.items[*].Organization",
        "Mobile": "$.items[?(@.MobilePhone)].MobilePhone",
        "Count": "$.count",
    })
    assert [r["ContactId"] for r in res.records] == ["alice@example.com", "bob@example.com", "carol@example.com"]
    assert [r["Company"] for r in res.records] == ["Acme", "", "Globex"]
    assert [r["Count"] for r in res.records] == ["3", "3", "3"]
    assert res.fields["Mobile"].alternatives[0].values == ["+15550101", "+15550301"]


def test_jsonpath_errors_are_reported_not_raised():
    res = map_records(RT_USERS, {"ContactId": "$.items.&&, items.#.id"})
    alt = res.fields["ContactId"].alternatives[0]
    assert alt.error and "bad JSONPath" in alt.error
    assert res.records[0]["ContactId"] == "alice@example.com"
    res = map_records('{"a": 1,', {"A": "$.a, a"})
    assert "not valid JSON" in res.fields["A"].alternatives[0].error
    assert res.records == [{"A": "1"}]  # GJSON is lenient like Go


def test_malformed_response_is_answered_like_go():
    text = '{"data":[{"id":1,"name":"Ann"},{"id":2,"name":"Bo'
    res = map_records(text, {"ContactId": "data.#.id", "FirstName": "data.#.name"})
    assert gjson.get(text, "data.#.id").string == "[1,2]"
    assert res.records[0] == {"ContactId": "1", "FirstName": "Ann"}
    assert res.records[1]["ContactId"] == "2"


def test_empty_spec_means_not_provided():
    res = map_records(RT_USERS, {"ContactId": "items.#.id", "Remark": ""})
    assert all(r["Remark"] == "" for r in res.records)
    assert res.fields["Remark"].alternatives == []


def test_path_problems_in_diagnostics():
    res = map_records(RT_USERS, {"ContactId": "items.#(id==1"})
    assert res.fields["ContactId"].alternatives[0].problems


def test_projection_after_a_first_match_query():
    doc = json.dumps({"orgs": [{"name": "Acme", "people": [{"id": 1}, {"id": 2, "phone": "+1"}]},
                               {"name": "Globex", "people": [{"id": 3}]}]})
    res = map_records(doc, {"ContactId": 'orgs.#(name=="Acme").people.#.id',
                            "Phone": 'orgs.#(name=="Acme").people.#.phone'})
    assert res.records == [{"ContactId": "1", "Phone": ""}, {"ContactId": "2", "Phone": "+1"}]
