from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KycConfig(AppConfig):
    name = "kyc"
    verbose_name = _("KYC case management")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Only a signal connection: the receiver runs in django-q2 worker processes at spawn.
        from kyc import workers

        workers.connect()
