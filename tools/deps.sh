#!/bin/sh
# Installs the Debian packages iex builds and tests with, when any is missing.
# Called by `make deps` (and so by `make`, `make test` and `make demo`).
# Checks first and does nothing when everything is present, so it is cheap.
set -eu

missing=""
need_pkg() { # need_pkg <check-command...> -- <debian package>
  pkg=$1; shift
  if ! "$@" >/dev/null 2>&1; then missing="$missing $pkg"; fi
}
has() { command -v "$1"; }
pc() { pkg-config --exists "$1"; }

need_pkg pkg-config          has pkg-config
need_pkg gcc                 has gcc
need_pkg make                has make
need_pkg re2c                has re2c
need_pkg lemon               has lemon
need_pkg python3             has python3
need_pkg jq                  has jq
need_pkg gojq                has gojq
need_pkg liblua5.4-dev       pc lua5.4
need_pkg libcurl4-openssl-dev pc libcurl
need_pkg libjansson-dev      pc jansson
need_pkg libsqlite3-dev      pc sqlite3
need_pkg libmicrohttpd-dev   pc libmicrohttpd
need_pkg libssl-dev          pc libcrypto
need_pkg tzdata              test -f /usr/share/zoneinfo/Europe/Copenhagen
# clang with libFuzzer for the fuzz targets (a short session runs in make test)
need_pkg clang               has clang
need_pkg libclang-rt-14-dev  dpkg-query -W -f=ok libclang-rt-14-dev

if [ -n "$missing" ]; then
  echo "deps: installing missing Debian packages:$missing"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
