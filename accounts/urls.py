from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            success_url=reverse_lazy("accounts:password_reset_done"),
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
            extra_email_context={"site_name": settings.SITE_NAME},
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<slug:uidb64>/<slug:token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("register/", views.register, name="register"),
    path("register/sent/", views.register_done, name="register_done"),
    path("register/verify/<str:token>/", views.verify_email, name="verify_email"),
    path("register/resend/", views.resend_verification, name="resend_verification"),
    path("register/invite/<str:token>/", views.accept_invitation, name="accept_invitation"),
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
