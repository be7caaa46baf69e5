#!/usr/bin/env bash
# The whole suite against PostgreSQL (127.0.0.1:5432, user postgres) in a throwaway database.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PGURL="${KYC_TEST_PG:-postgres://postgres@127.0.0.1:5432}"
db="kyc_ci_$(date +%s)_$$"
$PY - "$PGURL/test" "$db" create <<'PYEOF'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute(f'CREATE DATABASE "{sys.argv[2]}"' if sys.argv[3] == "create" else f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
PYEOF
cleanup() {
  $PY - "$PGURL/test" "$db" drop <<'PYEOF' || true
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    for name in (sys.argv[2], "test_" + sys.argv[2]):
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
PYEOF
}
trap cleanup EXIT
DATABASE_URL="$PGURL/$db" $PY -m pytest "$@"
