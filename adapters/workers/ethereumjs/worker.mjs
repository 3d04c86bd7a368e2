// evmdiff's ethereumjs worker: @ethereumjs/vm behind the JSON-lines worker protocol
// (docs/backends.md, "External workers: the JSON-lines protocol").
//
// One request per stdin line, one response line per request on stdout, strictly in order.
// stdout carries protocol lines only: console.* goes to stderr. Every request runs on a fresh
// VM and a fresh state (nothing is shared between requests but immutable tables).

import { createInterface } from 'node:readline'
import { format } from 'node:util'
import { readFileSync } from 'node:fs'

// Nothing but protocol lines on stdout: redirect console output before anything can print.
for (const level of ['log', 'info', 'debug', 'warn', 'error', 'trace', 'dir']) {
  console[level] = (...args) => process.stderr.write(format(...args) + '\n')
}

import { runCase, runChain } from './runner.mjs'

const version = (() => {
  try {
    const url = new URL('./node_modules/@ethereumjs/vm/package.json', import.meta.url)
    return JSON.parse(readFileSync(url, 'utf8')).version
  } catch {
    return 'unknown'
  }
})()

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

function errorText(e) {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`
  try {
    return `non-Error exception: ${JSON.stringify(e)}`
  } catch {
    return `non-Error exception: ${String(e)}`
  }
}

process.on('unhandledRejection', (e) => {
  process.stderr.write(`unhandled rejection: ${errorText(e)}\n`)
})
process.on('uncaughtException', (e) => {
  process.stderr.write(`uncaught exception: ${errorText(e)}\n`)
})
// A closed stdout (the parent went away) must not turn into an endless error loop.
process.stdout.on('error', () => process.exit(0))

send({ ready: true, protocol: 1, backend: 'ethereumjs', version, steps: true, chains: true })

async function handle(line) {
  if (line.trim() === '') return
  let id = null
  try {
    const req = JSON.parse(line)
    id = req.id ?? null
    const started = process.hrtime.bigint()
    // A chain request carries `chain` instead of `test` (docs/protocol.md, "The chain form").
    const answer = req.chain !== undefined ? await runChain(req) : await runCase(req)
    // Steps, when asked for, go before the answer, one line each.
    for (const step of answer.steps ?? []) send(step)
    delete answer.steps
    // The implementation's share of the round trip (docs/backends.md: elapsedUs).
    const elapsedUs = Number((process.hrtime.bigint() - started) / 1000n)
    send({ id, ...answer, elapsedUs })
  } catch (e) {
    send({ id, failed: errorText(e) })
  }
}

// `for await` over readline handles the lines strictly one after the other.
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })
for await (const line of rl) {
  await handle(line)
}
