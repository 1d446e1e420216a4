#!/bin/sh
# Install what h2hd needs to build, run and test on Debian 12 (bookworm).
# Idempotent: packages already present are left alone.  Uses sudo only when
# not run as root.
set -eu
PKGS="cmake gcc make pkg-config
  libssl-dev libxml2-dev libxml2-utils libssh2-1-dev libuv1-dev libconfig-dev
  libcunit1-dev libsqlite3-dev libcurl4-openssl-dev libjansson-dev
  libxmlsec1-dev xmlsec1 openssl
  openssh-server openssh-client python3 python3-lxml sqlite3 clang
  libclang-rt-14-dev procps"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
