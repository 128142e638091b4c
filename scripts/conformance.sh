#!/usr/bin/env bash
# Checks the emulator against Segment's own OpenAPI document with schemathesis: status codes,
# content types and response bodies of the access-management operations.
#
#   scripts/conformance.sh                      # from the repository root
#   SEGMENT_OPENAPI=path/to/openapi.yaml EMULATOR_CMD="target/debug/segment-access emulator" \
#     MAX_EXAMPLES=50 scripts/conformance.sh
set -euo pipefail

cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION="4.32.5"
OPENAPI="${SEGMENT_OPENAPI:-../shared/segment-api/openapi-v32.yaml}"
EMULATOR_CMD="${EMULATOR_CMD:-target/debug/segment-access emulator}"
if [[ "$EMULATOR_CMD" == "target/debug/segment-access emulator" && ! -x target/debug/segment-access ]]; then
    cargo build --quiet --locked
fi
MAX_EXAMPLES="${MAX_EXAMPLES:-30}"
VENV="target/conformance-venv"
TOKEN="emulator-owner-token"

if [[ ! -f "$OPENAPI" ]]; then
    echo "conformance: skipped: openapi document not found at $OPENAPI"
    exit 0
fi

if [[ ! -x "$VENV/bin/schemathesis" ]] ||
    ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "conformance: installing schemathesis $SCHEMATHESIS_VERSION into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

LOG="$(mktemp -t segment-emulator.XXXXXX)"
# Limits far above what the run sends: this checks shapes, not rate limiting.
# shellcheck disable=SC2086
$EMULATOR_CMD --addr 127.0.0.1:0 --rate-limit 100000000 --write-rate-limit 100000000 \
    >"$LOG" 2>&1 &
EMU_PID=$!
cleanup() {
    kill "$EMU_PID" 2>/dev/null || true
    wait "$EMU_PID" 2>/dev/null || true
    rm -f "$LOG"
}
trap cleanup EXIT
# Stopped by test.sh (a failed or interrupted run): the EXIT trap still stops the emulator.
trap 'exit 143' TERM

URL=""
for _ in $(seq 1 600); do
    if ! kill -0 "$EMU_PID" 2>/dev/null; then
        echo "conformance: the emulator exited early:" >&2
        cat "$LOG" >&2
        exit 1
    fi
    URL="$(head -n 1 "$LOG" | tr -d '\r')"
    if [[ "$URL" == http://* ]]; then
        break
    fi
    URL=""
    sleep 0.5
done
if [[ -z "$URL" ]]; then
    echo "conformance: the emulator did not print its URL" >&2
    exit 1
fi
echo "conformance: emulator at $URL, schema $OPENAPI" >&2

# The IAM Users, IAM Groups, IAM Roles, Workspaces and Audit Trail operations, the labels, plus the
# resource lists the tool reads. (Filters of different kinds are ANDed by schemathesis, so the
# operations are listed by id.)
OPERATIONS='^(listUsers|getUser|listUserGroupsFromUser|addPermissionsToUser|replacePermissionsForUser|deleteUsers|listInvites|createInvites|deleteInvites|listUserGroups|createUserGroup|getUserGroup|updateUserGroup|deleteUserGroup|listUsersFromUserGroup|listInvitesFromUserGroup|addUsersToUserGroup|removeUsersFromUserGroup|replaceUsersInUserGroup|addPermissionsToUserGroup|replacePermissionsForUserGroup|listRoles|getWorkspace|listAuditEvents|listSources|listWarehouses|listFunctions|listLabels|createLabel|deleteLabel)$'

# CPython 3.11.7 (this machine's) can crash inside Hypothesis while it describes a lambda
# ("AST constructor recursion depth mismatch", CPython gh-106905, fixed in 3.11.8): the AST
# converter's recursion counter is process-wide, so two threads building ASTs at once corrupt
# it. One worker thread avoids the race (with two, three crashes in a row were seen on a cold
# cache); a crash with that signature is still retried (up to 3 attempts), and nothing else is.
run_schemathesis() {
    "$VENV/bin/schemathesis" run "$OPENAPI" \
        --url "$URL" \
        --include-operation-id-regex "$OPERATIONS" \
        --header "Authorization: Bearer $TOKEN" \
        --generation-with-security-parameters false \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection \
        --phases examples,coverage,fuzzing \
        --max-examples "$MAX_EXAMPLES" \
        --seed 1 \
        --workers 1 \
        --request-timeout 10 \
        --no-color \
        "$@"
}

RUN_LOG="$(mktemp -t schemathesis.XXXXXX)"
for attempt in 1 2 3; do
    status=0
    run_schemathesis "$@" 2>&1 | tee "$RUN_LOG" || status=${PIPESTATUS[0]}
    if [[ $status -eq 0 ]]; then
        break
    fi
    if grep -q "AST constructor recursion depth mismatch" "$RUN_LOG" && [[ $attempt -lt 3 ]]; then
        echo "conformance: schemathesis crashed on the CPython 3.11.7 AST bug (attempt $attempt); running again" >&2
        continue
    fi
    break
done
rm -f "$RUN_LOG"
exit "$status"
