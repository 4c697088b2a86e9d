from __future__ import annotations

from django.urls import path

from scheduling import patient_page, roster
from scheduling.views import (
    desk,
    desk_calendar,
    links,
    patient,
    self_service,
    settings,
    visits,
    worklist,
)

app_name = "scheduling"

urlpatterns = [
    # The patient's home kept its address, /intake/, when scheduling began to draw it (the
    # appointments first, then the intake's state); intake's own URLs are below that address.
    path("intake/", patient.home, name="patient_home"),
    path("desk/", desk.desk, name="desk"),
    path("desk/search/", desk.search, name="search"),
    path("desk/patients/<uuid:public_id>/", patient_page.patient_page, name="patient"),
    path("desk/plans/<uuid:public_id>/", desk.plan_series, name="plan"),
    path("desk/patients/<uuid:public_id>/visits/new/", visits.book_visit, name="book_visit"),
    path("desk/visits/<uuid:public_id>/", visits.visit_detail, name="visit"),
    path("visits/<uuid:public_id>/", visits.my_visit, name="my_visit"),
    path("visits/<uuid:public_id>/cancel/", visits.my_visit_cancel, name="my_visit_cancel"),
    path("visits/<uuid:public_id>/move/", visits.my_visit_move, name="my_visit_move"),
    path("my-visits/book/", visits.self_book_visit, name="self_book_visit"),
    path("desk/<slug:slug>/boosters/", visits.booster_list, name="boosters"),
    path("desk/plans/<uuid:public_id>/booster/", visits.book_booster, name="book_booster"),
    path("my-series/booster/", visits.self_book_booster, name="self_book_booster"),
    path("desk/series/<uuid:public_id>/", desk.series_detail, name="series"),
    path("desk/series/<uuid:public_id>/confirm/", desk.confirm_series, name="confirm_series"),
    path("desk/series/<uuid:public_id>/decline/", desk.decline_series, name="decline_series"),
    path("desk/sessions/<uuid:public_id>/", desk_calendar.session_actions, name="session"),
    path("desk/sessions/<uuid:public_id>/move/", desk.move, name="move"),
    path("desk/sessions/<uuid:public_id>/cancel/", desk.cancel, name="cancel"),
    path("desk/sessions/<uuid:public_id>/waitlist/", desk.join_waitlist, name="waitlist"),
    path(
        "desk/sessions/<uuid:public_id>/undo-check-in/",
        desk.undo_check_in,
        name="undo_check_in",
    ),
    path("desk/sessions/<uuid:public_id>/<slug:action>/", desk.transition, name="transition"),
    path("desk/offers/<int:hold_id>/accept/", desk.accept_offer, name="accept_offer"),
    path("desk/tasks/", worklist.desk_tasks, name="desk_tasks"),
    path("desk/tasks/<uuid:public_id>/assign/", worklist.desk_task_assign, name="desk_task_assign"),
    path("desk/tasks/<uuid:public_id>/done/", worklist.desk_task_done, name="desk_task_done"),
    # The clinicians' list sits beside their review queue; review.urls has no "tasks/".
    path("review/tasks/", worklist.review_tasks, name="review_tasks"),
    path(
        "review/tasks/<uuid:public_id>/assign/",
        worklist.review_task_assign,
        name="review_task_assign",
    ),
    path("review/tasks/<uuid:public_id>/done/", worklist.review_task_done, name="review_task_done"),
    path("desk/<slug:slug>/day/", desk_calendar.day_view, name="day_today"),
    path("desk/<slug:slug>/day/<str:day>/", desk_calendar.day_view, name="day"),
    path(
        "desk/<slug:slug>/day/<str:day>/version/",
        desk_calendar.day_version,
        name="day_version",
    ),
    path("desk/<slug:slug>/day/<str:day>/slot/", desk_calendar.slot, name="slot"),
    path("desk/<slug:slug>/day/<str:day>/book/", desk_calendar.book_slot, name="book_slot"),
    path("desk/<slug:slug>/week/", desk_calendar.week_view, name="week_today"),
    path("desk/<slug:slug>/week/<str:day>/", desk_calendar.week_view, name="week"),
    path(
        "desk/<slug:slug>/week/<str:day>/version/",
        desk_calendar.week_version,
        name="week_version",
    ),
    path("sessions/", patient.my_sessions, name="my_sessions"),
    path("sessions/calendar/", patient.reset_feed, name="reset_feed"),
    path("sessions/<uuid:public_id>/confirm/", patient.confirm_mine, name="confirm_mine"),
    path("sessions/<uuid:public_id>/cancel/", patient.cancel_mine, name="cancel_mine"),
    path("sessions/<uuid:public_id>/appointment.ics", patient.session_ics, name="session_ics"),
    # Feed tokens are token_urlsafe: a slug; anything else is not found before any query.
    path("calendar/<slug:token>.ics", links.feed, name="feed"),
    path("r/<str:token>/", links.session_action, name="session_action"),
    path("r/<str:token>/cancel/", links.session_action_cancel, name="session_action_cancel"),
    path("v/<str:token>/", links.visit_action, name="visit_action"),
    # Patients' own series online (docs/product-rules.md#booking-online); their appointments page
    # stays at sessions/.
    path("my-series/", self_service.home, name="self_home"),
    path("my-series/book/", self_service.book, name="self_book"),
    path("my-series/<uuid:public_id>/book-rest/", self_service.book_rest, name="self_book_rest"),
    path("my-series/sessions/<uuid:public_id>/move/", self_service.move, name="self_move"),
    path("my-series/sessions/<uuid:public_id>/cancel/", self_service.cancel, name="self_cancel"),
    path(
        "my-series/sessions/<uuid:public_id>/waitlist/",
        self_service.join_waitlist,
        name="self_waitlist",
    ),
    path("my-series/offers/<uuid:public_id>/", self_service.offer, name="self_offer"),
    path("desk/messages/failed/", desk.failed_messages, name="failed_messages"),
    path("settings/<slug:slug>/closed-days/", settings.closed_days, name="closed_days"),
    path("settings/<slug:slug>/roster/", roster.roster, name="roster"),
    path("settings/<slug:slug>/roster/copy/", roster.copy_week, name="roster_copy"),
    path(
        "settings/<slug:slug>/roster/clinicians/",
        roster.clinician_shifts,
        name="roster_clinicians",
    ),
    path(
        "settings/<slug:slug>/roster/shifts/<int:shift_id>/",
        roster.move_shift,
        name="roster_shift",
    ),
    path(
        "settings/<slug:slug>/roster/shifts/<int:shift_id>/delete/",
        roster.delete_shift,
        name="roster_delete",
    ),
    path(
        "desk/closures/<int:pk>/rebook/",
        settings.closure_rebook,
        name="closure_rebook",
    ),
]
