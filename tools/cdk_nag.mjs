// cdk-nag's rule packs on rendered CloudFormation templates, loaded with CfnInclude
// (https://github.com/cdklabs/cdk-nag). Prints one JSON report on stdout; tools/scan.py reads it.
//
// A resource's waivers are read from its Metadata in the form cdk-nag writes for audit trails,
// `cdk_nag: {rules_to_suppress: [{id, reason, applies_to?}]}`, and handed to cdk-nag as
// acknowledgements, so cdk-nag itself decides what they cover; `applies_to` names the granular
// findings of a rule (`AwsSolutions-IAM5[Resource::*]`), as in cdk-nag's NagPackSuppression. A waiver without a reason of 10 characters or more is
// refused and reported. Each template is checked twice, without and with the waivers: the
// difference is what the waivers suppressed.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const cdk = require("aws-cdk-lib");
const { CfnInclude } = require("aws-cdk-lib/cloudformation-include");
const nag = require("cdk-nag");

const PACKS = [
  ["AwsSolutions", nag.AwsSolutionsChecks],
  ["Serverless", nag.ServerlessChecks],
  ["NIST.800.53.R5", nag.NIST80053R5Checks],
  ["HIPAA.Security", nag.HIPAASecurityChecks],
];
const MIN_REASON = 10;

function load(path, acknowledge) {
  const app = new cdk.App();
  const stack = new cdk.Stack(app, "Scanned");
  const included = new CfnInclude(stack, "Template", { templateFile: path });
  const refused = [];
  const ids = [];
  for (const child of included.node.children) {
    if (!cdk.CfnResource.isCfnResource(child)) continue;
    ids.push(child.logicalId);
    const rules = child.cfnOptions.metadata?.cdk_nag?.rules_to_suppress ?? [];
    for (const rule of rules) {
      if (typeof rule.id !== "string" || typeof rule.reason !== "string" ||
          rule.reason.trim().length < MIN_REASON) {
        refused.push({ resource: child.node.id, rule: rule.id ?? null });
      } else if (acknowledge) {
        const ids = rule.applies_to ? rule.applies_to.map((a) => `${rule.id}[${a}]`) : [rule.id];
        for (const id of ids) cdk.Validations.of(child).acknowledge({ id, reason: rule.reason });
      }
    }
  }
  return { stack, refused, resources: ids.length };
}

function findings(stack) {
  const found = [];
  for (const [pack, Pack] of PACKS) {
    for (const violation of new Pack(undefined, { verbose: false }).validateScope(stack).violations) {
      for (const where of violation.violatingResources) {
        found.push({
          pack,
          rule: violation.ruleName,
          level: violation.severity,
          // constructPath is Scanned/Template/<logical id>
          resource: where.constructPath.split("/")[2],
          message: violation.description,
          rule_error: violation.description.startsWith("Rule threw an error"),
        });
      }
    }
  }
  return found;
}

function reasonFor(path, resource, rule) {
  const granular = (r) => (r.applies_to ?? []).some((a) => `${r.id}[${a}]` === rule);
  const waiver = (readMetadata(path)[resource] ?? []).find((r) => r.id === rule || granular(r));
  return waiver?.reason ?? null;
}

const metadataCache = new Map();
function readMetadata(path) {
  if (!metadataCache.has(path)) {
    const { stack } = load(path, false);
    const byResource = {};
    for (const child of stack.node.findAll()) {
      if (cdk.CfnResource.isCfnResource(child)) {
        byResource[child.node.id] = child.cfnOptions.metadata?.cdk_nag?.rules_to_suppress ?? [];
      }
    }
    metadataCache.set(path, byResource);
  }
  return metadataCache.get(path);
}

const report = {
  tool: "cdk-nag",
  version: require("cdk-nag/package.json").version,
  packs: PACKS.map(([name]) => name),
  templates: {},
};
for (const path of process.argv.slice(2)) {
  readFileSync(path); // a missing template fails here, naming it
  const all = findings(load(path, false).stack);
  const { stack, refused, resources } = load(path, true);
  const key = (f) => `${f.pack}|${f.rule}|${f.resource}`;
  const remaining = new Set(findings(stack).map(key));
  report.templates[path] = {
    resources,
    refused,
    findings: all.map((f) => {
      const suppressed = !remaining.has(key(f));
      return { ...f, suppressed, reason: suppressed ? reasonFor(path, f.resource, f.rule) : null };
    }),
  };
}
process.stdout.write(JSON.stringify(report) + "\n");
