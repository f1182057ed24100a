import pytest

from requests_app.choices import Role
from tests.factories import AgencyFactory, caseworker


@pytest.fixture
def tree(db):
    """A small government tree: a city, its office, a department, a district and a street."""
    city = AgencyFactory(code="city", name="安顺市人民政府", kind="government")
    office = AgencyFactory(
        code="city-office", name="安顺市人民政府办公室", parent=city, kind="office"
    )
    dept = AgencyFactory(code="city-finance", name="安顺市财政局", parent=city)
    district = AgencyFactory(code="xixiu", name="西秀区人民政府", parent=city, kind="district")
    street = AgencyFactory(
        code="xixiu-nanhua", name="南华街道办事处", parent=district, kind="street"
    )
    other = AgencyFactory(code="other-city", name="另一市人民政府", kind="government")
    return {
        "city": city,
        "office": office,
        "dept": dept,
        "district": district,
        "street": street,
        "other": other,
    }


@pytest.fixture
def office(tree):
    return tree["office"]


@pytest.fixture
def approver(office):
    return caseworker(office, Role.APPROVER)


@pytest.fixture
def handler(office):
    return caseworker(office, Role.HANDLER)


@pytest.fixture
def registrar(office):
    return caseworker(office, Role.REGISTRAR)


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """Calendars are cached per process; a rolled-back test must not leave its rows cached."""
    from requests_app.calendars import calendar_changed

    calendar_changed()
    yield
    calendar_changed()


@pytest.fixture(autouse=True)
def _fresh_agency_cache():
    """So are agencies by code (for the public submission); a rolled-back test's agency must
    not answer for the next test's."""
    from requests_app.selectors import agency_cache_clear

    agency_cache_clear()
    yield
    agency_cache_clear()
