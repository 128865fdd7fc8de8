// cdk-nag's rule packs on rendered CloudFormation templates, loaded with CfnInclude
// (https://github.com/cdklabs/cdk-nag#using-on-cloudformation-templates). Prints one JSON
// report on stdout; tools/scan.py reads it:
//   {tool, version, packs, templates: {path: {resources, refused, findings: [{pack, rule,
//    level, resource, message, error, suppressed, reason}]}}}
//
// cdk-nag 3 is a policy validation plugin: it reads no CloudFormation Metadata, only what
// `Validations.of(construct).acknowledge({id, reason})` recorded on the construct tree, and
// it runs through `validateScope`, with no synthesis. So a resource's waivers are read here
// from its Metadata, in the form cdk-nag 2 read and cdk-nag 3 still writes for audit trails
// (`cdk_nag: {rules_to_suppress: [{id, reason, applies_to?}]}`), and acknowledged on the
// resource; `applies_to` names a rule's granular findings (`AwsSolutions-IAM5[Resource::*]`),
// which cdk-nag 3 only acknowledges one by one. Each template is checked before and after
// the acknowledgements: what cdk-nag no longer reports is what the waivers suppressed.
//
// cdk-nag 3 acknowledges a rule whatever its reason, even an empty one; cdk-nag 2 refused a
// reason under 10 characters. The scan keeps cdk-nag 2's rule: such a waiver is not
// acknowledged, and is reported in `refused`.
//
// A rule that cannot evaluate a resource (an intrinsic where it needs a value) is reported
// under its own id, with `error: true` and the rule's error (verbose); a waiver of the rule
// suppresses it, as cdk-nag does.
import { createRequire } from "node:module";

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
const RULE_ERROR = "Rule threw an error during validation.";

function findings(stack) {
  const found = [];
  for (const [pack, Pack] of PACKS) {
    const { violations } = new Pack(undefined, { verbose: true }).validateScope(stack);
    for (const violation of violations) {
      for (const where of violation.violatingResources) {
        found.push({
          pack,
          rule: violation.ruleName,
          level: violation.severity,
          resource: where.constructPath.split("/").at(-1), // Scanned/Template/<logical id>
          message: violation.description,
          error: violation.description.startsWith(RULE_ERROR),
        });
      }
    }
  }
  return found;
}

function scan(path) {
  const app = new cdk.App();
  const stack = new cdk.Stack(app, "Scanned");
  const template = new CfnInclude(stack, "Template", { templateFile: path });
  const resources = template.node.children.filter((c) => cdk.CfnResource.isCfnResource(c));
  const before = findings(stack);
  const refused = [];
  const reasons = new Map(); // `${resource}|${rule id}` -> reason
  for (const resource of resources) {
    for (const waiver of resource.cfnOptions.metadata?.cdk_nag?.rules_to_suppress ?? []) {
      const id = typeof waiver?.id === "string" ? waiver.id : null;
      const reason = typeof waiver?.reason === "string" ? waiver.reason.trim() : "";
      if (id === null || reason.length < MIN_REASON) {
        refused.push({ resource: resource.node.id, rule: id, reason: waiver?.reason ?? null });
        continue;
      }
      const ids = waiver.applies_to ? waiver.applies_to.map((a) => `${id}[${a}]`) : [id];
      for (const rule of ids) {
        cdk.Validations.of(resource).acknowledge({ id: rule, reason });
        reasons.set(`${resource.node.id}|${rule}`, reason);
      }
    }
  }
  const key = (f) => `${f.pack}|${f.rule}|${f.resource}`;
  const remaining = new Set(findings(stack).map(key));
  return {
    resources: resources.length,
    refused,
    findings: before.map((f) => {
      const suppressed = !remaining.has(key(f));
      const reason = suppressed ? reasons.get(`${f.resource}|${f.rule}`) ?? null : null;
      return { ...f, suppressed, reason };
    }),
  };
}

const report = {
  tool: "cdk-nag",
  version: require("cdk-nag/package.json").version,
  packs: PACKS.map(([name]) => name),
  templates: {},
};
for (const path of process.argv.slice(2)) {
  report.templates[path] = scan(path);
}
process.stdout.write(JSON.stringify(report) + "\n");
