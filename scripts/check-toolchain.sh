#!/usr/bin/env bash
# The pinned toolchain is written once (.nvmrc for Node, package.json's packageManager for npm);
# the Dockerfile cannot read either, so this check keeps its build arguments equal to them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

docker_arg() { sed -n "s/^ARG $1=\(.*\)$/\1/p" "$ROOT/Dockerfile"; }
[ "$(docker_arg NODE_VERSION)" = "$NODE_VERSION" ] || die "Dockerfile NODE_VERSION=$(docker_arg NODE_VERSION), .nvmrc says $NODE_VERSION"
[ "$(docker_arg NPM_VERSION)" = "$NPM_VERSION" ] || die "Dockerfile NPM_VERSION=$(docker_arg NPM_VERSION), package.json says npm@$NPM_VERSION"
echo "toolchain: Node $NODE_VERSION, npm $NPM_VERSION (.nvmrc, package.json, Dockerfile agree)"
