#!/usr/bin/env bash
# Installs what bbsync needs, checks formatting, then builds and runs every test in each
# preset given (default: ci, then asan-ubsan). CI runs exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== clang-format check"
git ls-files -- '*.cpp' '*.hpp' | xargs clang-format-14 --dry-run --Werror

# Idioms that need Boost 1.86 compile on newer Boost but not on the 1.81 this project uses.
echo "== Boost 1.81 idiom check"
if git grep -n -E 'cancel_after|cancel_at\(|redirect_error\(ec\)|as_tuple\(\)' -- '*.cpp' '*.hpp'; then
    echo "error: the lines above use Boost 1.86 idioms that do not exist in Boost 1.81" >&2
    exit 1
fi

presets=("$@")
if [ ${#presets[@]} -eq 0 ]; then
    presets=(ci asan-ubsan)
fi

for preset in "${presets[@]}"; do
    echo "== $preset: configure and build"
    start=$(date +%s)
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset"
    echo "== $preset: built in $(( $(date +%s) - start )) s; running tests"
    ctest --preset "$preset" --parallel 2
done
