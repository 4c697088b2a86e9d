from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("settings/<slug:slug>/prices/", views.prices, name="prices"),
    path("billing/card/", views.card, name="card"),
    path("billing/card/<str:token>/", views.card_link, name="card_link"),
    path("desk/patients/<uuid:public_id>/card-link/", views.send_card_link, name="send_card_link"),
    path("desk/patients/<uuid:public_id>/packages/", views.sell_package, name="sell_package"),
    path("billing/pay/<str:token>/", views.pay, name="pay"),
    path("billing/stripe/webhook/", views.webhook, name="webhook"),
    path("billing/charges/<uuid:public_id>/waive/", views.waive, name="waive"),
    path("billing/charges/<uuid:public_id>/refund/", views.refund, name="refund"),
    path("billing/packages/<uuid:public_id>/refund/", views.refund_package, name="refund_package"),
    path("billing/takings/<slug:slug>/", views.takings, name="takings"),
    path("billing/takings/<slug:slug>/csv/", views.takings_csv, name="takings_csv"),
]
