#!/usr/bin/env bash
# test.sh — builds everything and runs every test (unit tests and tutorial chapters) with ctest.
#   BUILD_DIR=build-x CMAKE_ARGS="-DDL_SANITIZE=ON" bash scripts/test.sh   for other configurations
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
jobs=$(nproc)
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j"$jobs"
ctest --test-dir "$build_dir" --output-on-failure -j"$jobs" ${CTEST_ARGS:-}
