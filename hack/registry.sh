#!/usr/bin/env bash
# registry.sh start|stop|status: a local OCI registry (Debian's
# docker-registry) on a loopback port, storage in the user's cache dir.
#   FAIR_LOCAL_REGISTRY  host:port (default 127.0.0.1:5056)
set -euo pipefail
ADDR=${FAIR_LOCAL_REGISTRY:-127.0.0.1:5056}
DIR=${XDG_CACHE_HOME:-$HOME/.cache}/fair/registry-${ADDR//[:.]/-}
PID=$DIR/registry.pid
running() { [ -f "$PID" ] && kill -0 "$(cat "$PID")" 2>/dev/null; }
case "${1:-}" in
start)
	if running; then echo "registry already running on $ADDR" >&2; exit 0; fi
	mkdir -p "$DIR/data"
	cat >"$DIR/config.yml" <<CFG
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $DIR/data
http:
  addr: $ADDR
CFG
	nohup docker-registry serve "$DIR/config.yml" >"$DIR/registry.log" 2>&1 &
	echo $! >"$PID"
	for _ in $(seq 1 50); do
		if curl -fsS "http://$ADDR/v2/" >/dev/null 2>&1; then echo "registry running on $ADDR" >&2; exit 0; fi
		sleep 0.1
	done
	echo "registry did not start; see $DIR/registry.log" >&2
	exit 1
	;;
stop)
	if running; then kill "$(cat "$PID")"; rm -f "$PID"; echo "registry on $ADDR stopped" >&2; fi
	;;
status)
	if running; then echo "registry running on $ADDR (pid $(cat "$PID"))"; else echo "registry not running"; exit 1; fi
	;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
