#!/usr/bin/env bash
# collect.sh - write an iamproof account snapshot for the current AWS credentials.
#
# Usage: scripts/collect.sh OUT_DIR [--region REGION]
#
# Runs only read-only AWS CLI calls (sts get-caller-identity, iam get-account-authorization-details,
# iam list-open-id-connect-providers/get-open-id-connect-provider/list-saml-providers,
# s3api get-*, kms describe-key/get-key-policy/list-*, mediaconvert list-*, apigateway
# get-rest-apis, cloudformation list-stacks/list-stack-resources, organizations describe-*/list-*)
# and writes their unmodified JSON output into
# OUT_DIR in the layout of docs/snapshot-layout.md. Works with AWS CLI v1 and v2; needs nothing but bash
# and the aws command. Pick the account with the usual AWS_PROFILE / AWS_* environment variables.
#
# The region comes from --region, else AWS_REGION / AWS_DEFAULT_REGION / the profile, else us-east-1.
# KMS keys, MediaConvert queues and API Gateway APIs are collected for that one region only.
#
# "No such configuration" answers (no bucket policy, no tags, ...) mean "none" and leave the file
# out, which is what the snapshot format expects. Any other failure (access denied, throttling, ...)
# would make a missing file lie, so it is reported, listed in OUT_DIR/collect-errors.txt, and the
# script ends with exit status 1 after collecting everything else. The one exception is AWS
# Organizations: member accounts usually may not read SCPs/RCPs; without them the snapshot has no
# organizations/ folder, which can only make iamproof's answers more permissive, never less.
#
# Exit status: 0 complete snapshot, 1 snapshot written but incomplete (see collect-errors.txt),
# 2 usage error or a required call failed.

set -euo pipefail

PROG=${0##*/}

usage() {
    cat <<EOF
Usage: $PROG OUT_DIR [--region REGION]

Write an iamproof account snapshot of the account behind the current AWS credentials.
Only read-only AWS CLI calls are made. Choose credentials with AWS_PROFILE or AWS_* variables.

Options:
  --region REGION   region for KMS, MediaConvert and API Gateway (default: the CLI's region,
                    else us-east-1)
  -h, --help        show this help
EOF
}

die() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit 2
}

OUT=""
REGION=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --region)
            [ $# -ge 2 ] || die "--region needs a value"
            REGION=$2; shift 2 ;;
        --region=*) REGION=${1#--region=}; shift ;;
        -*) usage >&2; die "unknown option: $1" ;;
        *)
            [ -z "$OUT" ] || die "more than one OUT_DIR given: $OUT and $1"
            OUT=$1; shift ;;
    esac
done
[ -n "$OUT" ] || { usage >&2; exit 2; }

command -v aws >/dev/null 2>&1 || die "the aws command (AWS CLI) is not installed"

if [ -z "$REGION" ]; then
    REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
fi
if [ -z "$REGION" ]; then
    REGION=$(aws configure get region 2>/dev/null || true)
fi
REGION=${REGION:-us-east-1}

# No pager (CLI v2 would otherwise start `less`), JSON output, our region.
export AWS_PAGER=""
AWSJ=(aws --output json --region "$REGION")
AWST=(aws --output text --region "$REGION")

if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT" 2>/dev/null)" ]; then
    # A stale file from an earlier run would silently describe configuration that may be gone.
    die "$OUT exists and is not empty; choose a new folder"
fi
mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/iamproof-collect.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
ERRLOG="$OUT/collect-errors.txt"
rm -f "$ERRLOG"
INCOMPLETE=0

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

# record_error WHAT STDERR_FILE: note a failed call that leaves the snapshot incomplete.
record_error() {
    INCOMPLETE=1
    log "INCOMPLETE: $1 failed:"
    sed 's/^/    /' "$2" >&2
    {
        printf '%s\n' "$1"
        sed 's/^/    /' "$2"
    } >>"$ERRLOG"
}

# fetch FILE ABSENT_REGEX -- AWS ARGS...
# Runs `aws --output json ARGS` and writes its output to OUT/FILE. If the call fails with an error
# matching ABSENT_REGEX (an empty regex matches nothing), the configuration does not exist: no file.
# Any other failure is recorded as an error. Returns 0 if the file was written, 1 otherwise.
fetch() {
    local file=$1 absent=$2
    shift 3
    local out="$TMP/out" err="$TMP/err"
    if "${AWSJ[@]}" "$@" >"$out" 2>"$err"; then
        mkdir -p "$(dirname "$OUT/$file")"
        mv "$out" "$OUT/$file"
        return 0
    fi
    if [ -n "$absent" ] && grep -Eq "$absent" "$err"; then
        return 1
    fi
    record_error "aws $* (for $file)" "$err"
    return 1
}

# text LIST_OUTPUT_FILE -- AWS ARGS...: run with --output text; "None" and blanks dropped, one
# value per line in LIST_OUTPUT_FILE. Returns the CLI's status; stderr is left in $TMP/err.
text() {
    local dest=$1
    shift 2
    if "${AWST[@]}" "$@" >"$TMP/text" 2>"$TMP/err"; then
        tr '\t' '\n' <"$TMP/text" | sed -e 's/[[:space:]]*$//' -e '/^$/d' -e '/^None$/d' >"$dest"
        return 0
    fi
    return 1
}

# ------------------------------------------------------------------ identity and region
log "collecting into $OUT (region $REGION)"
if ! "${AWSJ[@]}" sts get-caller-identity >"$TMP/id" 2>"$TMP/err"; then
    cat "$TMP/err" >&2
    die "sts get-caller-identity failed: no usable credentials?"
fi
mv "$TMP/id" "$OUT/caller-identity.json"
ACCOUNT=$("${AWST[@]}" sts get-caller-identity --query Account)
printf '%s\n' "$REGION" >"$OUT/region.txt"
# When the snapshot was taken: the instant of aws:CurrentTime in iamproof's answers.
date -u +%Y-%m-%dT%H:%M:%SZ >"$OUT/collected-at.txt"
log "account $ACCOUNT"

# ------------------------------------------------------------------ IAM (required)
# The CLI paginates automatically and prints one merged object.
log "iam get-account-authorization-details"
mkdir -p "$OUT/iam"
if ! "${AWSJ[@]}" iam get-account-authorization-details >"$TMP/gaad" 2>"$TMP/err"; then
    cat "$TMP/err" >&2
    die "iam get-account-authorization-details failed; it is the one required file (needs iam:GetAccountAuthorizationDetails)"
fi
mv "$TMP/gaad" "$OUT/iam/account-authorization-details.json"

# Identity providers: who outside the account may sign in to its roles. Each OIDC provider's own
# file holds its URL and the audiences (client ids) STS accepts.
log "iam identity providers"
if fetch "iam/oidc-providers.json" '' -- iam list-open-id-connect-providers; then
    if text "$TMP/oidc" -- iam list-open-id-connect-providers --query 'OpenIDConnectProviderList[].Arn'; then
        n=0
        while IFS= read -r arn; do
            [ -n "$arn" ] || continue
            fetch "iam/oidc-providers/$n.json" '' -- \
                iam get-open-id-connect-provider --open-id-connect-provider-arn "$arn" || true
            n=$((n + 1))
        done <"$TMP/oidc"
    else
        record_error "aws iam list-open-id-connect-providers" "$TMP/err"
    fi
fi
fetch "iam/saml-providers.json" '' -- iam list-saml-providers || true

# ------------------------------------------------------------------ S3
log "s3 buckets"
if text "$TMP/buckets" -- s3api list-buckets --query 'Buckets[].Name'; then
    while IFS= read -r b; do
        [ -n "$b" ] || continue
        # The folder itself says "this bucket belongs to this account", even with no files in it.
        mkdir -p "$OUT/s3/$b"
        fetch "s3/$b/policy.json" 'NoSuchBucketPolicy' -- \
            s3api get-bucket-policy --bucket "$b" || true
        fetch "s3/$b/encryption.json" 'ServerSideEncryptionConfigurationNotFoundError' -- \
            s3api get-bucket-encryption --bucket "$b" || true
        fetch "s3/$b/ownership-controls.json" 'OwnershipControlsNotFoundError' -- \
            s3api get-bucket-ownership-controls --bucket "$b" || true
        fetch "s3/$b/public-access-block.json" 'NoSuchPublicAccessBlockConfiguration' -- \
            s3api get-public-access-block --bucket "$b" || true
        fetch "s3/$b/tags.json" 'NoSuchTagSet' -- \
            s3api get-bucket-tagging --bucket "$b" || true
    done <"$TMP/buckets"
else
    record_error "aws s3api list-buckets" "$TMP/err"
fi

# ------------------------------------------------------------------ KMS (this region)
log "kms keys in $REGION"
if text "$TMP/keys" -- kms list-keys --query 'Keys[].KeyId'; then
    while IFS= read -r k; do
        [ -n "$k" ] || continue
        fetch "kms/$k/key.json" '' -- kms describe-key --key-id "$k" || true
        fetch "kms/$k/policy.json" '' -- kms get-key-policy --key-id "$k" --policy-name default || true
    done <"$TMP/keys"
    fetch "kms/aliases.json" '' -- kms list-aliases || true
else
    record_error "aws kms list-keys" "$TMP/err"
fi

# ------------------------------------------------------------------ MediaConvert (this region)
# Newer CLIs call the regional endpoint directly. Older ones need the account-specific endpoint
# from describe-endpoints; if the plain call fails, look it up and retry with --endpoint-url.
log "mediaconvert in $REGION"
MC_ENDPOINT=()
MC_NOT_HERE='Could not connect to the endpoint URL|UnknownEndpoint|not supported in this region|EndpointConnectionError'
if ! "${AWSJ[@]}" mediaconvert list-queues >"$TMP/mcq" 2>"$TMP/mcerr"; then
    if grep -Eq "$MC_NOT_HERE" "$TMP/mcerr"; then
        log "MediaConvert is not available in $REGION; skipping"
        MC_ENDPOINT=(skip)
    elif url=$("${AWST[@]}" mediaconvert describe-endpoints --query 'Endpoints[0].Url' 2>"$TMP/err") \
            && [ -n "$url" ] && [ "$url" != "None" ]; then
        MC_ENDPOINT=(--endpoint-url "$url")
    else
        record_error "aws mediaconvert list-queues" "$TMP/mcerr"
        MC_ENDPOINT=(skip)
    fi
fi
if [ "${MC_ENDPOINT[0]:-}" != "skip" ]; then
    fetch "mediaconvert/queues.json" '' -- mediaconvert list-queues ${MC_ENDPOINT[@]+"${MC_ENDPOINT[@]}"} || true
    fetch "mediaconvert/job-templates.json" '' -- \
        mediaconvert list-job-templates ${MC_ENDPOINT[@]+"${MC_ENDPOINT[@]}"} || true
    fetch "mediaconvert/presets.json" '' -- \
        mediaconvert list-presets ${MC_ENDPOINT[@]+"${MC_ENDPOINT[@]}"} || true
fi

# ------------------------------------------------------------------ API Gateway (this region)
log "apigateway rest apis in $REGION"
fetch "apigateway/rest-apis.json" '' -- apigateway get-rest-apis || true

# ------------------------------------------------------------------ CloudFormation (this region)
# The resources of every stack, so that a template given as an update of a stack
# (`iamproof --template T --stack-name S`) is known to delete those it no longer holds. The folder
# is written even with no stack (it says "none"); if the stacks cannot be listed, it is left out.
log "cloudformation stacks in $REGION"
collect_stacks() {
    if ! text "$TMP/stacks" -- cloudformation list-stacks --query 'StackSummaries[?StackStatus!=`DELETE_COMPLETE`].StackName'; then
        record_error "aws cloudformation list-stacks" "$TMP/err"
        return
    fi
    mkdir -p "$OUT/cloudformation/stacks"
    while IFS= read -r stack; do
        [ -n "$stack" ] || continue
        if ! fetch "cloudformation/stacks/$stack.json" '' -- \
            cloudformation list-stack-resources --stack-name "$stack"; then
            # A stack whose resources are unknown would read as a new one: record none.
            rm -rf "$OUT/cloudformation"
            return
        fi
    done <"$TMP/stacks"
}
collect_stacks

# ------------------------------------------------------------------ Organizations
# SCPs and RCPs that apply to this account: walk from the account up to the root with list-parents,
# ask list-policies-for-target at every level, and save each policy once with describe-policy.
# organizations/targets.json lists the levels root first.
ORG_SKIP='AWSOrganizationsNotInUseException|AccessDenied|not authorized|is not a member|ConstraintViolationException'
collect_organizations() {
    if ! text "$TMP/mgmt" -- organizations describe-organization --query 'Organization.MasterAccountId'; then
        if grep -Eq "$ORG_SKIP" "$TMP/err"; then
            log "organizations: not in an organization or not allowed to read it; no SCPs/RCPs collected"
            return 0
        fi
        record_error "aws organizations describe-organization" "$TMP/err"
        return 0
    fi
    if [ "$(cat "$TMP/mgmt")" = "$ACCOUNT" ]; then
        # SCPs and RCPs never apply to the management account.
        log "organizations: $ACCOUNT is the management account; SCPs and RCPs do not apply to it"
        return 0
    fi

    # Walk up: account, its OU(s), the root.
    local chain=("$ACCOUNT") child=$ACCOUNT parent_line parent_id parent_type
    while :; do
        if ! text "$TMP/parent" -- organizations list-parents --child-id "$child" \
                --query 'Parents[0].[Id,Type]'; then
            if grep -Eq "$ORG_SKIP" "$TMP/err"; then
                log "organizations: not allowed to walk the organization (list-parents needs the management account or a delegated administrator); no SCPs/RCPs collected"
                return 0
            fi
            record_error "aws organizations list-parents --child-id $child" "$TMP/err"
            return 0
        fi
        parent_line=$(tr '\n' ' ' <"$TMP/parent")
        parent_id=${parent_line%% *}
        parent_type=$(printf '%s' "${parent_line#* }" | tr -d ' ')
        [ -n "$parent_id" ] || break
        chain=("$parent_id" "${chain[@]}")
        [ "$parent_type" = "ROOT" ] && break
        child=$parent_id
    done

    local target filter sub ids levels="" first_level=1 pol_list first_pol enabled_scp=1 enabled_rcp=1
    : >"$TMP/seen"   # policy ids already saved (a file, not an associative array: bash 3.2 on macOS)
    for target in "${chain[@]}"; do
        pol_list=""
        first_pol=1
        for filter in SERVICE_CONTROL_POLICY RESOURCE_CONTROL_POLICY; do
            if [ "$filter" = SERVICE_CONTROL_POLICY ]; then
                sub=scps
                [ "$enabled_scp" = 1 ] || continue
            else
                sub=rcps
                [ "$enabled_rcp" = 1 ] || continue
            fi
            if ! text "$TMP/pols" -- organizations list-policies-for-target --target-id "$target" \
                    --filter "$filter" --query 'Policies[].Id'; then
                if grep -Eq 'PolicyTypeNotEnabledException|InvalidInputException' "$TMP/err"; then
                    # This policy type is not enabled in the organization: it restricts nothing.
                    log "organizations: $filter is not enabled; skipping it"
                    if [ "$filter" = SERVICE_CONTROL_POLICY ]; then enabled_scp=0; else enabled_rcp=0; fi
                    continue
                fi
                if grep -Eq "$ORG_SKIP" "$TMP/err"; then
                    log "organizations: not allowed to list policies (needs the management account or a delegated administrator); no SCPs/RCPs collected"
                    rm -rf "$OUT/organizations"
                    return 0
                fi
                record_error "aws organizations list-policies-for-target --target-id $target --filter $filter" "$TMP/err"
                rm -rf "$OUT/organizations"
                return 0
            fi
            while IFS= read -r ids; do
                [ -n "$ids" ] || continue
                if ! grep -qxF "$ids" "$TMP/seen"; then
                    printf '%s\n' "$ids" >>"$TMP/seen"
                    fetch "organizations/$sub/$ids.json" '' -- \
                        organizations describe-policy --policy-id "$ids" || true
                fi
                if [ "$first_pol" = 1 ]; then first_pol=0; else pol_list+=", "; fi
                pol_list+="\"$ids\""
            done <"$TMP/pols"
        done
        if [ "$first_level" = 1 ]; then first_level=0; else levels+=$',\n'; fi
        levels+="    {\"id\": \"$target\", \"policies\": [$pol_list]}"
    done
    mkdir -p "$OUT/organizations"
    printf '{"levels": [\n%s\n]}\n' "$levels" >"$OUT/organizations/targets.json"
}
log "organizations"
collect_organizations
# The organization's id and management account: iamproof exempts the management account from
# SCPs and RCPs, and knows aws:PrincipalOrgID, only when it has this file.
fetch "organizations/organization.json" "$ORG_SKIP" -- organizations describe-organization || true

# ------------------------------------------------------------------ done
if [ "$INCOMPLETE" = 1 ]; then
    log "snapshot written to $OUT but INCOMPLETE: some calls failed (see $ERRLOG)."
    log "A file left out means 'none' to iamproof, so fix the permissions and run again."
    exit 1
fi
log "snapshot complete: $OUT"
