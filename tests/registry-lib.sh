# Start Debian's docker-registry on 127.0.0.1, for the tests, the bench and
# the demo. Source this file, then:
#   start_registry STORE [HTPASSWD]   # sets REG_PORT and REG_PID; the caller stops REG_PID
# STORE is the registry's storage directory (created); its config and log
# go beside it as STORE.yml and STORE.log.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_registry() {
	local store=$1 htpasswd=${2:-}
	REG_PORT=$(free_port)
	mkdir -p "$store"
	{
		echo "version: 0.1"
		echo "log: {level: error, accesslog: {disabled: $([ "${REG_ACCESSLOG:-0}" = 1 ] && echo false || echo true)}}"
		echo "storage: {filesystem: {rootdirectory: $store}, delete: {enabled: true}}"
		echo "http: {addr: 127.0.0.1:$REG_PORT}"
		[ -n "$htpasswd" ] && echo "auth: {htpasswd: {realm: ovbd-test, path: $htpasswd}}"
	} >"$store.yml"
	docker-registry serve "$store.yml" >"$store.log" 2>&1 &
	REG_PID=$!
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$REG_PORT/v2/" && return 0
		sleep 0.1
	done
	echo "docker-registry did not answer on 127.0.0.1:$REG_PORT ($store.log)" >&2
	return 1
}
