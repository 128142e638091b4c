#!/usr/bin/env bash
# The whole test suite, as the README gives it: `scripts/test.sh`.
#
# 1. Installs the system packages the tests use when they are missing and we can (root + apt):
#    jq (to compare --jq with the real thing), gnome-keyring, dbus and libsecret-tools (the real
#    Secret Service keyring), python3-venv (schemathesis conformance run), groff-base (man pages
#    render without warnings) and bsdutils (`script`: colour tests on a pseudo-terminal).
# 2. Runs `cargo test` inside a D-Bus session with an unlocked gnome-keyring when possible, so
#    keyring tests hit the real Secret Service; elsewhere they use the kernel keyutils store.
# 3. Runs the OpenAPI conformance check of the emulator (scripts/conformance.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${SEGMENT_ACCESS_TEST_SESSION:-}" ]; then
  missing=()
  command -v jq >/dev/null || missing+=(jq)
  command -v dbus-run-session >/dev/null || missing+=(dbus)
  command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
  command -v secret-tool >/dev/null || missing+=(libsecret-tools)
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  command -v groff >/dev/null || missing+=(groff-base)
  command -v script >/dev/null || missing+=(bsdutils)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "test.sh: installing ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "test.sh: missing system packages: ${missing[*]} (install them, or run as root with apt)" >&2
    fi
  fi

  cargo build --locked --all-targets

  # Keyring tests want a real Secret Service: a private D-Bus session with gnome-keyring.
  if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
    export SEGMENT_ACCESS_TEST_SESSION=dbus
    dbus-run-session -- bash "$0" "$@"
    status=$?
  else
    export SEGMENT_ACCESS_TEST_SESSION=plain
    bash "$0" "$@"
    status=$?
  fi
  exit $status
fi

# --- inside the test session -------------------------------------------------------------------
if [ "$SEGMENT_ACCESS_TEST_SESSION" = dbus ]; then
  # An empty password on stdin creates and unlocks the login keyring without a prompt.
  eval "$(printf '' | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
  echo "test.sh: Secret Service: gnome-keyring in a private D-Bus session"
else
  echo "test.sh: no D-Bus session; keyring tests use the kernel keyutils store"
fi

cargo test --locked "$@"

bash scripts/conformance.sh
