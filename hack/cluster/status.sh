#!/usr/bin/env bash
# status.sh prints each local control plane component with its pid and liveness.
# Exit status: 0 when every component runs, 1 otherwise.
set -euo pipefail
# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rc=0
printf '%-24s %-8s %-6s %-9s %s\n' COMPONENT PID STATE 'RSS(MiB)' 'PEAK(MiB)'
for c in "${COMPONENTS[@]}"; do
	pid=$(component_pid "$c")
	state=down rss=- peak=-
	if component_alive "$c"; then
		state=up
		rss=$(($(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status") / 1024))
		peak=$(($(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status") / 1024))
	else
		rc=1
	fi
	printf '%-24s %-8s %-6s %-9s %s\n' "$c" "${pid:--}" "$state" "$rss" "$peak"
done
if [[ -f "$KUBECONFIG_FILE" ]] && kubectl --kubeconfig "$KUBECONFIG_FILE" --request-timeout=3s get --raw /readyz >/dev/null 2>&1; then
	echo "apiserver /readyz: ok    KUBECONFIG=$KUBECONFIG_FILE"
else
	echo "apiserver /readyz: not ready"
	rc=1
fi
echo "binaries: $CLUSTER_BIN ($(cache_valid && echo cached || echo 'not built'))"
exit "$rc"
