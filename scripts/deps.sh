#!/usr/bin/env bash
# Installs the Debian 12 packages contraband needs to build, test and benchmark.
# Kept in one place so the README's first command and CI install exactly the same set.
set -euo pipefail
PKGS=(build-essential cmake pkg-config libyaml-dev librandom123-dev libcmocka-dev nettle-dev libsqlite3-dev sqlite3 libgsl-dev libopenmpi-dev openmpi-bin valgrind python3 clang libclang-rt-14-dev libjansson-dev gnuplot-nox chromium chromium-driver)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing ${missing[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
