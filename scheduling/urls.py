from __future__ import annotations

from django.urls import path

from scheduling import closed_day_views, self_service, views

app_name = "scheduling"

urlpatterns = [
    path("desk/", views.desk, name="desk"),
    path("desk/search/", views.search, name="search"),
    path("desk/plans/<uuid:public_id>/", views.plan_series, name="plan"),
    path("desk/series/<uuid:public_id>/", views.series_detail, name="series"),
    path("desk/series/<uuid:public_id>/confirm/", views.confirm_series, name="confirm_series"),
    path("desk/series/<uuid:public_id>/decline/", views.decline_series, name="decline_series"),
    path("desk/sessions/<uuid:public_id>/move/", views.move, name="move"),
    path("desk/sessions/<uuid:public_id>/cancel/", views.cancel, name="cancel"),
    path("desk/sessions/<uuid:public_id>/waitlist/", views.join_waitlist, name="waitlist"),
    path(
        "desk/sessions/<uuid:public_id>/undo-check-in/",
        views.undo_check_in,
        name="undo_check_in",
    ),
    path("desk/sessions/<uuid:public_id>/<slug:action>/", views.transition, name="transition"),
    path("desk/offers/<int:hold_id>/accept/", views.accept_offer, name="accept_offer"),
    path("desk/tasks/", views.desk_tasks, name="desk_tasks"),
    path("desk/tasks/<uuid:public_id>/assign/", views.desk_task_assign, name="desk_task_assign"),
    path("desk/tasks/<uuid:public_id>/done/", views.desk_task_done, name="desk_task_done"),
    # The clinicians' list sits beside their review queue; review.urls has no "tasks/".
    path("review/tasks/", views.review_tasks, name="review_tasks"),
    path(
        "review/tasks/<uuid:public_id>/assign/", views.review_task_assign, name="review_task_assign"
    ),
    path("review/tasks/<uuid:public_id>/done/", views.review_task_done, name="review_task_done"),
    path("desk/<slug:slug>/day/", views.day_view, name="day_today"),
    path("desk/<slug:slug>/day/<str:day>/", views.day_view, name="day"),
    path("desk/<slug:slug>/week/", views.week_view, name="week_today"),
    path("desk/<slug:slug>/week/<str:day>/", views.week_view, name="week"),
    path("sessions/", views.my_sessions, name="my_sessions"),
    path("sessions/calendar/", views.reset_feed, name="reset_feed"),
    path("sessions/<uuid:public_id>/confirm/", views.confirm_mine, name="confirm_mine"),
    path("sessions/<uuid:public_id>/cancel/", views.cancel_mine, name="cancel_mine"),
    path("sessions/<uuid:public_id>/appointment.ics", views.session_ics, name="session_ics"),
    # Feed tokens are token_urlsafe: a slug; anything else is not found before any query.
    path("calendar/<slug:token>.ics", views.feed, name="feed"),
    path("r/<str:token>/", views.session_action, name="session_action"),
    path("r/<str:token>/cancel/", views.session_action_cancel, name="session_action_cancel"),
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
    path("desk/messages/failed/", views.failed_messages, name="failed_messages"),
    path("settings/<slug:slug>/closed-days/", closed_day_views.closed_days, name="closed_days"),
    path(
        "desk/closures/<int:pk>/rebook/",
        closed_day_views.closure_rebook,
        name="closure_rebook",
    ),
]
