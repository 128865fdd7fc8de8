// A test tool: @cloud-copilot/iam-simulate (AGPL-3.0) as a long-lived process for the
// differential test (tests/reference/). Reads one JSON array of simulations per line on stdin
// and writes one JSON array of results per line on stdout. The product never runs or ships it.
import { createInterface } from 'node:readline'
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate'

async function simulate(simulation) {
  if (simulation.request.principal === 'anonymous') {
    simulation.request.principal = anonymousPrincipal
  }
  try {
    const response = await runSimulation(simulation, {})
    if (response.resultType === 'error') {
      return { error: response.errors }
    }
    const ignored = response.resultType === 'single' ? response.result.ignoredContextKeys : []
    return { result: response.overallResult, ignored: ignored ?? [] }
  } catch (error) {
    return { error: String(error) }
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (!line.trim()) continue
  const results = []
  for (const simulation of JSON.parse(line)) {
    results.push(await simulate(simulation))
  }
  process.stdout.write(JSON.stringify(results) + '\n')
}
