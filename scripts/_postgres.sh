# Sourced by scripts/test: the integration tests need PostgreSQL at 127.0.0.1:5432 (or
# KPI_TEST_POSTGRES). Start the local cluster if it is installed and down; under CI=true the
# tests themselves fail (never skip) when it is still unreachable.
pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }

if [[ -z "${KPI_TEST_POSTGRES:-}" ]] && ! pg_up && [[ -d /etc/postgresql ]]; then
    echo "scripts/test: PostgreSQL not answering on 127.0.0.1:5432; starting the local cluster" >&2
    for version in $(ls /etc/postgresql); do
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    for _ in $(seq 1 30); do
        pg_up && break
        sleep 1
    done
fi
