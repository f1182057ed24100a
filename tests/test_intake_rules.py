"""The applicant and delivery rules live in the intake service (``application_fields_check``):
the admin's counter form, the staff API and the public API refuse the same inputs with the same
message on the same field, and store nothing. The service refuses them itself too."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from requests_app.choices import Channel
from requests_app.models import Case, CaseEvent
from requests_app.services.errors import InvalidInput
from requests_app.services.intake import (
    ADDRESS_FOR_POST_DELIVERY,
    CONTACT_REQUIRED,
    EMAIL_FOR_EMAIL_DELIVERY,
    application_fields_check,
    case_intake,
    case_submit,
)
from tests.factories import application_fields

# (name, overrides of a valid application, {field: [message]}). Each input has the fields the
# APIs require on their own (phone, address), so that what refuses it is the service's rule.
REFUSED = [
    (
        "e-mail delivery without an e-mail address",
        {"delivery_method": "email", "email": ""},
        {"email": [EMAIL_FOR_EMAIL_DELIVERY]},
    ),
    (
        "bad id number",
        {"id_number": "520402199001011230"},
        {"id_number": ["身份证号码校验位不正确。"]},
    ),
    (
        "bad credit code",
        {
            "applicant_type": "commercial_enterprise",
            "id_type": "credit_code",
            "id_number": "9" * 18,
        },
        {"id_number": ["统一社会信用代码校验位不正确。"]},
    ),
    (
        "bad phone",
        {"phone": "12345"},
        {"phone": ["电话号码格式不正确（手机号 11 位，或区号-座机号）。"]},
    ),
    ("bad postal code", {"postal_code": "5610"}, {"postal_code": ["邮政编码应为 6 位数字。"]}),
    (
        "e-mail delivery without e-mail, and a bad phone",
        {"delivery_method": "email", "email": "", "phone": "110"},
        {
            "phone": ["电话号码格式不正确（手机号 11 位，或区号-座机号）。"],
            "email": [EMAIL_FOR_EMAIL_DELIVERY],
        },
    ),
]
IDS = [name for name, *_ in REFUSED]


def fields(**overrides) -> dict:
    return {**application_fields(postal_code="561000"), **overrides}


def nothing_stored():
    return Case.objects.count() == 0 and CaseEvent.objects.count() == 0


@pytest.mark.parametrize(("name", "overrides", "errors"), REFUSED, ids=IDS)
def test_the_service_refuses(office, registrar, name, overrides, errors):
    with pytest.raises(InvalidInput) as refused:
        application_fields_check(fields(**overrides))
    assert refused.value.fields == errors
    assert refused.value.message == next(iter(errors.values()))[0]
    for intake in (
        lambda: case_submit(agency=office, fields=fields(**overrides)),
        lambda: case_intake(
            actor=registrar, agency=office, channel=Channel.IN_PERSON, fields=fields(**overrides)
        ),
    ):
        with pytest.raises(InvalidInput) as refused:
            intake()
        assert refused.value.fields == errors
    assert nothing_stored()


@pytest.mark.parametrize(("name", "overrides", "errors"), REFUSED, ids=IDS)
def test_the_three_edges_refuse_alike(client, office, registrar, name, overrides, errors):
    # The public API.
    public = APIClient().post(
        "/api/v1/applications/", {**fields(**overrides), "agency": office.code}, format="json"
    )
    assert public.status_code == 400
    assert public.json()["fields"] == errors
    # The staff API (counter intake).
    staff_client = APIClient()
    staff_client.force_authenticate(registrar)
    staff = staff_client.post(
        "/api/v1/staff/cases/", {**fields(**overrides), "channel": "in_person"}, format="json"
    )
    assert staff.status_code == 400
    assert staff.json()["fields"] == errors
    # The admin's counter form.
    client.force_login(registrar)
    form_data = {**fields(**overrides), "agency": office.pk, "channel": Channel.IN_PERSON}
    page = client.post(reverse("admin:requests_app_case_intake"), form_data)
    assert page.status_code == 200
    assert page.context["form"].errors == errors
    assert nothing_stored()


def test_admin_refuses_email_delivery_with_no_email_and_no_address(client, office, registrar):
    """What the admin accepted before: e-mail delivery, no e-mail address, no postal address."""
    client.force_login(registrar)
    data = {
        **fields(delivery_method="email", email="", address="", postal_code=""),
        "agency": office.pk,
        "channel": Channel.IN_PERSON,
    }
    page = client.post(reverse("admin:requests_app_case_intake"), data)
    assert page.status_code == 200
    assert page.context["form"].errors == {"email": [EMAIL_FOR_EMAIL_DELIVERY]}
    assert nothing_stored()


def test_post_delivery_needs_an_address_at_the_counter(client, office, registrar):
    client.force_login(registrar)
    data = {
        **fields(delivery_method="post", address="", postal_code=""),
        "agency": office.pk,
        "channel": Channel.IN_PERSON,
    }
    page = client.post(reverse("admin:requests_app_case_intake"), data)
    assert page.context["form"].errors == {"address": [ADDRESS_FOR_POST_DELIVERY]}
    with pytest.raises(InvalidInput) as refused:
        case_intake(
            actor=registrar,
            agency=office,
            channel=Channel.IN_PERSON,
            fields=fields(delivery_method="post", address="", postal_code=""),
        )
    assert refused.value.fields == {"address": [ADDRESS_FOR_POST_DELIVERY]}
    assert nothing_stored()


def test_a_contact_is_needed(office, registrar):
    with pytest.raises(InvalidInput) as refused:
        case_intake(
            actor=registrar,
            agency=office,
            channel=Channel.IN_PERSON,
            fields=fields(phone="", email="", address="", delivery_method="collect"),
        )
    assert refused.value.fields == {"phone": [CONTACT_REQUIRED]}
    assert nothing_stored()


def test_the_checked_fields_are_stored_in_their_clean_form(office, registrar):
    case, _code = case_intake(
        actor=registrar,
        agency=office,
        channel=Channel.IN_PERSON,
        fields=fields(phone="+86 138 0013 8000", id_number=fields()["id_number"].lower()),
    )
    assert (case.phone, case.id_number) == ("13800138000", fields()["id_number"].upper())


def test_english_messages_in_the_api(office):
    response = APIClient().post(
        "/api/v1/applications/",
        {**fields(email=""), "agency": office.code},
        format="json",
        headers={"Accept-Language": "en"},
    )
    assert response.json()["fields"] == {"email": ["Delivery by e-mail needs an e-mail address."]}


def test_a_field_with_its_own_error_gets_no_second_one(client, office, registrar):
    """A malformed e-mail address is said once, as the field's own error, at every edge: the
    rule 'e-mail delivery needs an address' does not add a second message."""
    client.force_login(registrar)
    data = {**fields(email="not-an-email"), "agency": office.pk, "channel": Channel.IN_PERSON}
    page = client.post(reverse("admin:requests_app_case_intake"), data)
    assert list(page.context["form"].errors) == ["email"]
    assert len(page.context["form"].errors["email"]) == 1
    assert EMAIL_FOR_EMAIL_DELIVERY not in page.context["form"].errors["email"]
    public = APIClient().post(
        "/api/v1/applications/",
        {**fields(email="not-an-email"), "agency": office.code},
        format="json",
    )
    assert list(public.json()["fields"]) == ["email"]
    assert len(public.json()["fields"]["email"]) == 1
    assert nothing_stored()
