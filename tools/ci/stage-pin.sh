#!/usr/bin/env bash
# Stage what `region-scout pin` writes — the spec and the tree rendered from it — and nothing else.
# Never `git add -A`: google-github-actions/auth writes its credentials file gha-creds-*.json into
# $GITHUB_WORKSPACE (the checkout) for the rest of the job ("The credentials file is exported into
# $GITHUB_WORKSPACE", https://github.com/google-github-actions/auth#inputs), and a bare `git add -A`
# would commit that token request, opening a new pin pull request on every apply.
# Used by .github/workflows/infra.yml; tested by tools/ci/workflows.spec.ts.
set -euo pipefail
paths=()
for p in fleet-config clusters .github/workflows; do
  # a path that does not exist (a fleet with no clusters folder yet) would make `git add` fail
  if [ -e "$p" ] || git ls-files --error-unmatch -- "$p" > /dev/null 2>&1; then paths+=("$p"); fi
done
if [ "${#paths[@]}" -gt 0 ]; then git add -A -- "${paths[@]}"; fi
