# Sourced by scripts/test and scripts/demo: a working .venv with the project installed.
# Quick when nothing changed: pip runs only when pyproject.toml is newer than the stamp.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
fi
stamp=.venv/.kpi-ledger-installed
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
    touch "$stamp"
fi
# The project's own modules compiled once (an editable install leaves them as source): every
# process would otherwise compile them again where PYTHONDONTWRITEBYTECODE is set, as on these
# machines, and a rebuild's worker processes start ~60 ms later for it. Quick when up to date.
.venv/bin/python -m compileall -q domain projections replay api bench > /dev/null
