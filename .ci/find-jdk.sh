# Sourced by ./tessera and .ci/run: prints the home of a JDK >= 25 (JAVA_HOME, then java on PATH, then the system
# JVM folder), or explains what to install and fails.
tessera_jdk_feature() {  # the feature version of the JDK at $1, or nothing
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'
}
tessera_find_jdk() {
  local candidates=() c v
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    c=$(readlink -f "$(command -v java)"); candidates+=("${c%/bin/java}")
  fi
  for c in /usr/lib/jvm/* /usr/local/lib/jvm/* /opt/java/* /opt/jdk*; do [ -d "$c" ] && candidates+=("$c"); done
  for c in "${candidates[@]}"; do
    v=$(tessera_jdk_feature "$c")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$c"; return 0; fi
  done
  echo "Tessera needs a JDK 25 or newer and found none (looked at JAVA_HOME, java on PATH and /usr/lib/jvm)." >&2
  echo "Install one (for example Eclipse Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}
