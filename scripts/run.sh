#!/usr/bin/env bash
# Runs the whole system on the embedded defaults: SQLite, the django-q2 ORM broker, the offline OCR
# engine. Web UI + API + admin on http://127.0.0.1:8000 and the background worker; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"   # dev keys are allowed only in DEBUG; set real ones in .env
[ -f .env ] && set -a && . ./.env && set +a
PY=.venv/bin/python
ADDR="${KYC_ADDR:-127.0.0.1:8000}"

$PY manage.py migrate --noinput
$PY manage.py kyc_sync_schedules
$PY manage.py seed_demo

pids=()
stop() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# The worker runs in a session of its own: a signal to this script's process group (Ctrl-C in a
# terminal, `timeout`, a supervisor) reaches only its main process, through the trap above, which lets it
# drain its workers; sent to all its processes, django-q2's sentinel and workers would die mid-task.
setsid $PY manage.py qcluster &
pids+=($!)
$PY manage.py runserver --noreload "$ADDR" &
pids+=($!)
echo "KYC is running on http://$ADDR/admin/ (worker pid ${pids[0]}, web pid ${pids[1]}). Ctrl-C stops both."
wait -n
