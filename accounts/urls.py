from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<slug:uidb64>/<slug:token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("register/", views.register, name="register"),
    path("register/sent/", views.register_done, name="register_done"),
    path("register/verify/<slug:token>/", views.verify_email, name="verify_email"),
    path("register/resend/", views.resend_verification, name="resend_verification"),
    path("register/invite/<slug:token>/", views.accept_invitation, name="accept_invitation"),
    path("invitations/new/", views.invite, name="invite"),
    path("invitations/staff/new/", views.invite_staff, name="invite_staff"),
    path("mfa/", views.mfa, name="mfa"),
    path("language/", views.set_language, name="set_language"),
    path("session/status/", views.session_status, name="session_status"),
    path("session/keep-alive/", views.keep_alive, name="keep_alive"),
    path("locked-accounts/", views.locked_accounts, name="locked"),
    path("", views.home, name="home"),
    path("home/nurse/", views.nurse_home, name="home_nurse"),
    path("home/admin/", views.clinic_admin_home, name="home_clinic_admin"),
]
