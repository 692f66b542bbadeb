#!/usr/bin/env bash
# Install everything the test suite needs on a Debian machine, then run it.
#
#   scripts/test.sh [pytest arguments...]      e.g. scripts/test.sh -k pull -x
#
# Phases (each skipped when already done, so a second run starts pytest at once):
#   apt     docker-registry (CNCF distribution 2.8), skopeo, podman, chromium, fonts, plantuml   (needs root or sudo)
#   npm     newman, mermaid-cli and openapi-to-postmanv2 into .tools/ (Chromium comes from apt, not from puppeteer)
#   python  .venv with regexplore installed editable plus its test extra
#   pytest  the whole suite (CI=true makes tests that lack a tool fail instead of skip)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(docker-registry skopeo podman chromium fonts-dejavu-core plantuml)
NEWMAN_VERSION=6.2.2
MERMAID_CLI_VERSION=11.17.0
OPENAPI_TO_POSTMAN_VERSION=6.3.3
PYTHON=${PYTHON:-python3}

phase() { printf '==> %s\n' "$*"; }

# -- apt -----------------------------------------------------------------------------
missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    missing+=(python3-venv)
fi
if ((${#missing[@]})); then
    phase "apt: installing ${missing[*]}"
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    phase "apt: ${APT_PACKAGES[*]} already installed"
fi

# -- npm -----------------------------------------------------------------------------
npm_version() {  # installed version of an npm package in .tools, or nothing
    node -p "require('./.tools/node_modules/$1/package.json').version" 2>/dev/null || true
}
if [ "$(npm_version newman)" = "$NEWMAN_VERSION" ] &&
    [ "$(npm_version @mermaid-js/mermaid-cli)" = "$MERMAID_CLI_VERSION" ] &&
    [ "$(npm_version openapi-to-postmanv2)" = "$OPENAPI_TO_POSTMAN_VERSION" ]; then
    phase "npm: newman $NEWMAN_VERSION, mermaid-cli $MERMAID_CLI_VERSION, openapi-to-postmanv2 $OPENAPI_TO_POSTMAN_VERSION already in .tools"
else
    phase "npm: installing newman $NEWMAN_VERSION, mermaid-cli $MERMAID_CLI_VERSION, openapi-to-postmanv2 $OPENAPI_TO_POSTMAN_VERSION into .tools"
    PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix .tools --save-exact --no-audit --no-fund --loglevel=error \
        "newman@$NEWMAN_VERSION" "@mermaid-js/mermaid-cli@$MERMAID_CLI_VERSION" \
        "openapi-to-postmanv2@$OPENAPI_TO_POSTMAN_VERSION" >/dev/null
fi

# -- python --------------------------------------------------------------------------
stamp=.venv/.regexplore-installed
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    phase "python: .venv up to date with pyproject.toml"
else
    phase "python: installing regexplore[test] into .venv"
    [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
    printf '%s\n' "$wanted" >"$stamp"
fi

# -- pytest --------------------------------------------------------------------------
# Two workers (pytest-xdist): the suite waits on registries, browsers and tools as much as on
# the CPU, so two processes on two cores take ~4 min where one takes ~7.5. Each worker starts
# its own registries. `scripts/test.sh -p no:xdist ...` runs everything in one process.
workers="-n 2"
case " $* " in *" -p no:xdist "*|*" -n "*|*" --numprocesses"*) workers="" ;; esac
phase "pytest: .venv/bin/python -m pytest $workers $*"
exec .venv/bin/python -m pytest $workers "$@"
