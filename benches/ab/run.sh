#!/usr/bin/env bash
# Paired A/B: the working tree's assocstore against BASE (a git revision),
# on the peers workload. Usage: benches/ab/run.sh BASE [ROUNDS] [N]
# (defaults: 11 rounds, N = 1,000,000; see src/main.rs).
set -euo pipefail
base=${1:?usage: benches/ab/run.sh BASE [ROUNDS] [N]}
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
copy="$root/target/ab-base"
rm -rf "$copy"
mkdir -p "$copy"
# The base revision's files, without touching the working tree or its index.
git -C "$root" archive "$base" | tar -x -C "$copy"
sed -i 's/^name = "assocstore"$/name = "assocstore_base"/' "$copy/Cargo.toml"
cd "$root/benches/ab"
cargo run --release --quiet -- "${@:2}"
