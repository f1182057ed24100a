"""The applicants' pages, at the site's root. No URL carries a tracking number or a code."""

from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.agency_list, name="agencies"),
    path("agencies/<str:code>/", views.agency_guide, name="guide"),
    path("agencies/<str:code>/apply/", views.apply, name="apply"),
    path("submitted/", views.submitted, name="submitted"),
    path("submitted/receipt.pdf", views.receipt_pdf, name="receipt"),
    path("track/", views.track, name="track"),
    path("case/", views.case_page, name="case"),
    path("case/supplement/", views.case_supplement, name="supplement"),
    path("case/withdraw/", views.case_withdraw, name="withdraw"),
    path("case/question/", views.case_question, name="question"),
    path("case/letters/<int:pk>.pdf", views.letter_pdf, name="letter"),
    path("case/release/<int:pk>.pdf", views.release_file, name="release-file"),
    path("published/<int:pk>/", views.publication, name="publication"),
    path("case/leave/", views.leave, name="leave"),
]
