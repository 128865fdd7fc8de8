// A test tool: @cloud-copilot/iam-simulate (AGPL-3.0) as a long-lived process for the
// differential test (tests/reference/). Reads one JSON simulation per line on stdin (its
// `Simulation` type; an anonymous caller is the principal {"type": "Anonymous"}) and writes
// one JSON result per line on stdout, in the same order:
//   {"overallResult": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied",
//    "ignoredContextKeys": [...]}
// or {"errors": ...} for a simulation it rejects or cannot read. The product never runs or
// ships it.
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

async function simulate(line) {
  try {
    const response = await runSimulation(JSON.parse(line), {})
    if (response.resultType === 'error') {
      return { errors: response.errors }
    }
    // A request resource with a wildcard gives one result per pattern, and no keys to report.
    const ignored = response.resultType === 'single' ? response.result.ignoredContextKeys : []
    return { overallResult: response.overallResult, ignoredContextKeys: ignored ?? [] }
  } catch (error) {
    return { errors: String(error) }
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (line.trim()) {
    process.stdout.write(JSON.stringify(await simulate(line)) + '\n')
  }
}
