"""Re-solve stored clearing snapshots and prove the identical result hash."""

from django.core.management.base import BaseCommand, CommandError

from aggregator.exchange.replay import replay_run
from market.models.clearing import ClearingRun, RunStatus


class Command(BaseCommand):
    help = "Replay clearing runs: solve each stored snapshot again and compare result hashes."

    def add_arguments(self, parser):
        parser.add_argument("run_id", nargs="?", type=int, help="the run to replay")
        parser.add_argument("--all", action="store_true", help="replay every completed run")

    def handle(self, *args, run_id=None, **options):
        replay_all = options["all"]
        if (run_id is None) == (not replay_all):
            raise CommandError("give a RUN_ID or --all")
        runs = ClearingRun.objects.filter(status=RunStatus.COMPLETED).order_by("interval_start")
        if run_id is not None:
            runs = runs.filter(pk=run_id)
            if not runs.exists():
                raise CommandError(f"no completed run {run_id}")
        failures = 0
        for run in runs.iterator():
            verdict = replay_run(run)
            if verdict.ok:
                self.stdout.write(f"run {run.pk} {run.interval_start:%Y-%m-%dT%H:%MZ}: identical "
                                  f"(cleared with {verdict.run_solver}, re-solved with "
                                  f"{verdict.replay_solver}; result sha256 "
                                  f"{verdict.actual_sha256[:16]}…)")  # fmt: skip
            else:
                failures += 1
                self.stdout.write(self.style.ERROR(
                    f"run {run.pk}: DIFFERENT — {verdict.first_difference} "
                    f"(stored {verdict.expected_sha256[:16]}…, replay {verdict.actual_sha256[:16]}…)"
                ))  # fmt: skip
        if failures:
            raise CommandError(f"{failures} run(s) did not replay identically", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"{runs.count()} run(s) replayed identically"))
