# Sourced by ./univar and scripts/test.sh: selects a JDK 25 or newer and exports JAVA_HOME,
# or explains exactly what to install and exits.
java_major() { # prints the major version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

find_jdk() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*; do [ -d "$d" ] && candidates+=("$d"); done
  command -v java >/dev/null 2>&1 && candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  for home in "${candidates[@]}"; do
    if [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ]; then
      local v; v="$(java_major "$home/bin/java")"
      if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$home"; return 0; fi
    fi
  done
  return 1
}

if ! JDK="$(find_jdk)"; then
  cat >&2 <<'MSG'
univar: error: no JDK 25 found (looked at $JAVA_HOME, /usr/lib/jvm/*, and java on the PATH).
Install a JDK 25 and point JAVA_HOME at it, for example:
  Debian/Ubuntu with the Adoptium repository:  apt-get install temurin-25-jdk
  or unpack a JDK 25 from https://adoptium.net and run:  export JAVA_HOME=/path/to/jdk-25
MSG
  exit 1
fi
export JAVA_HOME="$JDK"
