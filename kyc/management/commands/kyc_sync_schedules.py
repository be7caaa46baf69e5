from django.core.management.base import BaseCommand
from django_q.models import Schedule

from kyc.schedules import SCHEDULES


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules declared in kyc/schedules.py (idempotent)."

    def handle(self, *args, **options):
        for name, func, minutes in SCHEDULES:
            Schedule.objects.update_or_create(
                name=name, defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1}
            )
        self.stdout.write(f"{len(SCHEDULES)} schedule(s) in place")
