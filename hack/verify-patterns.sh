#!/usr/bin/env bash
# House rules, run by `make lint`. Prints file:line for every violation; exits 1 if any.
#   - no context.TODO() outside main packages
#   - no panic( in non-test code
#   - no func init(
#   - no logrus
#   - nothing written to stdout (fmt.Print*, os.Stdout) in plugin binaries (plugins/cmd/...)
#     or in the router/ and metricprovider/ packages they import
# Excluded: _test.go files, testdata/, interop/ (its own module), hack/deps.
set -euo pipefail
cd "$(dirname "$0")/.."

files() { # all tracked and untracked-but-not-ignored Go sources, minus the exclusions
	git ls-files --cached --others --exclude-standard -- '*.go' |
		grep -vE '(^|/)testdata/|^interop/|^hack/deps/|_test\.go$' || true
}

fail=0
# check RULE REGEX FILE: prints FILE:LINE: RULE: text for each matching line.
check() {
	local rule=$1 re=$2 f=$3 hits
	hits=$(grep -nE "$re" "$f" || true)
	[ -n "$hits" ] || return 0
	while IFS= read -r hit; do
		echo "$f:${hit%%:*}: $rule: ${hit#*:}"
	done <<<"$hits"
	fail=1
}

if [ $# -gt 0 ]; then # check the given files instead (used to test this script)
	all=("$@")
else
	mapfile -t all < <(files)
fi
for f in "${all[@]}"; do
	[ -f "$f" ] || continue
	# patterns skip lines whose match is preceded by // so comments may mention them
	if ! grep -qE '^package main\b' "$f"; then
		check "context.TODO() outside a main package" '^[^/]*\bcontext\.TODO\(\)' "$f"
	fi
	check "panic( in non-test code" '^[^/"]*\bpanic\(' "$f"
	check "func init( is not allowed" '^func init\(' "$f"
	check "logrus is not allowed (use hclog/klog)" 'sirupsen/logrus' "$f"
	case "$f" in
	plugins/cmd/* | router/* | metricprovider/* | */plugins/cmd/* | */router/* | */metricprovider/*)
		check "nothing may write to stdout in plugin binaries (it carries go-plugin's handshake; log to stderr)" \
			'^[^/]*(\bfmt\.Print(f|ln)?\(|\bos\.Stdout\b)' "$f"
		;;
	esac
done

if [ "$fail" -ne 0 ]; then
	echo "verify-patterns: house-rule violations above" >&2
	exit 1
fi
echo "verify-patterns: ok (${#all[@]} files)"
