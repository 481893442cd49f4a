#!/usr/bin/env bash
# What `npm test` needs, set up by itself where no root is needed: the npm packages, the Python
# packages in a virtual environment of the project's own (.cache/venv: pyarrow, the Hazelcast
# client, the package clients/python), the Hazelcast member jar. What needs root it checks first,
# stopping at once with one line naming the package and the command that installs it.
# Idempotent and quick when everything is in place: `npm test` (pretest) and the tests' global
# set-up both run it. `--check` only checks; `--missing` lists the packages to install.
set -euo pipefail
# The repository root, without dirname: the checks below must run with only bash on PATH.
here=${BASH_SOURCE[0]%/*}
[ "$here" != "${BASH_SOURCE[0]}" ] || here=.
cd "$here/.."

# What needs root, as "check package": a command on PATH, or a Python module for python3.
checks=(
  "redis-server redis-server"
  "redis-cli redis-tools"
  "chromium chromium"
  "java openjdk-17-jre-headless"
  "mvn maven"
  "python3 python3"
  "python3:venv,ensurepip python3-venv"
  "systemd-analyze systemd"
)
present() {
  case "$1" in
    chromium) [ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null 2>&1 ;;
    python3:*) python3 -c "import ${1#python3:}" >/dev/null 2>&1 ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}
for c in "${checks[@]}"; do
  read -r check package <<<"$c"
  present "$check" && continue
  # --missing: the packages to install, one a line (.ci/run installs them); else stop at the first.
  if [ "${1:-}" = --missing ]; then echo "$package"; continue; fi
  what=$check
  [[ $check == python3:* ]] && what="Python's ${check#python3:} modules"
  echo "npm test needs $what (package $package): sudo apt-get install $package" >&2
  exit 1
done
case "${1:-}" in --missing | --check) exit 0 ;; esac

[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error

# The venv is made again when its inputs change: the requirements, or the client package.
venv=.cache/venv
stamp="$venv/.inputs"
inputs=$(cat requirements-test.txt clients/python/pyproject.toml clients/python/*.py | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$inputs" ]; then
  echo "Python packages for the tests into $venv (requirements-test.txt, clients/python) …" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-test.txt >&2
  # Installed as a package, as its users install it; again on every change (same version number).
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall ./clients/python >&2
  echo "$inputs" >"$stamp"
fi

bash scripts/fetch-hazelcast.sh >/dev/null
