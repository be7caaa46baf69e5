from django.core.management.base import BaseCommand, CommandError

from kyc.services.audit import audit_verify


class Command(BaseCommand):
    help = "Walk the audit hash chain and name the first broken event (exit status 1 when broken)."

    def handle(self, *args, **options):
        report = audit_verify()
        if not report.ok:
            raise CommandError(
                f"audit chain {report.broken_chain} broken at event #{report.broken_seq}: {report.problem} "
                f"({report.checked} events verified before it)"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chains intact: {report.checked} events verified"))
