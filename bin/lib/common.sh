# Shared by bin/hourglass, bin/test and .ci/run. Finds a JDK 21+ and Maven; says clearly when there is none.

java_major() { # prints the major version of the java binary $1, or nothing
  "$1" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}

find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(java_major "$candidate/bin/java")
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then
      echo "$candidate"
      return 0
    fi
  done
  # Highest first would be nicer, but any 21+ works; fall back to the java on PATH.
  if command -v javac >/dev/null 2>&1; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    major=$(java_major "$candidate/bin/java")
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then echo "$candidate"; return 0; fi
  fi
  return 1
}

require_jdk() {
  local jdk
  if ! jdk=$(find_jdk); then
    echo "hourglass: needs a JDK 21 or newer (looked at JAVA_HOME='${JAVA_HOME:-}', /usr/lib/jvm/*, and PATH)." >&2
    echo "hourglass: install one (e.g. Temurin 21+) and set JAVA_HOME to it." >&2
    exit 3
  fi
  export JAVA_HOME="$jdk"
  export PATH="$JAVA_HOME/bin:$PATH"
  # Maven 3.8/3.9 itself calls sun.misc.Unsafe; on JDK 24+ that prints warnings that are Maven's, not ours.
  if [ "$(java_major "$JAVA_HOME/bin/java")" -ge 24 ]; then
    export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
  fi
}

maven() {
  if command -v mvn >/dev/null 2>&1; then mvn -Dstyle.color=never "$@";
  else echo "hourglass: needs Apache Maven 3.8+ on PATH to build" >&2; exit 3; fi
}

# Debian's prometheus package: the Prometheus scrape test (bin/test) and promtool (the alert rules' check) use it.
# Installed when missing and this runs as root on a Debian-like system; otherwise says what is missing and goes on
# (the scrape test then skips with that message, except on CI, where it fails).
ensure_prometheus() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's prometheus package (for the Prometheus scrape test and promtool)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends prometheus >/dev/null; } \
      || echo "== could not install the prometheus package" >&2
  else
    echo "== no prometheus on PATH: install Debian's 'prometheus' package for the Prometheus scrape test" >&2
  fi
}
