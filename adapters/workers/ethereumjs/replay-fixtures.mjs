#!/usr/bin/env node
// Replays ethereum/tests GeneralStateTests through the ethereumjs worker, over the real
// JSON-lines protocol: every (fork, post index) of every file becomes one one-vector request;
// the answer's stateRoot is compared with post[fork][i].hash and keccak(rlp(logs)) with
// post[fork][i].logs.
//
//   node adapters/workers/ethereumjs/replay-fixtures.mjs [--jobs N] [--fork F[,F..]]
//        [--timeout S] [--out failures.jsonl] [--limit N] [--skip REGEX] [--selfcheck] PATH...
//
// PATH is a fixture file or a folder (searched recursively for *.json).

import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { appendFileSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

import { RLP } from '@ethereumjs/rlp'
import { keccak_256 } from '@noble/hashes/sha3.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const workerPath = join(here, 'worker.mjs')

const args = process.argv.slice(2)
let jobs = 2
let forks
let timeout = 60
let out
let limit = Infinity
let selfcheck = false
let skip
const paths = []
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  if (a === '--jobs') jobs = Number(args[++i])
  else if (a === '--fork') forks = new Set(args[++i].split(','))
  else if (a === '--timeout') timeout = Number(args[++i])
  else if (a === '--out') out = args[++i]
  else if (a === '--limit') limit = Number(args[++i])
  else if (a === '--selfcheck') selfcheck = true
  else if (a === '--skip') skip = new RegExp(args[++i])
  else paths.push(a)
}
if (paths.length === 0) {
  console.error('usage: replay-fixtures.mjs [--jobs N] [--fork F] [--timeout S] [--out F] PATH...')
  process.exit(2)
}

function files(p) {
  const st = statSync(p)
  if (st.isFile()) return p.endsWith('.json') ? [p] : []
  return readdirSync(p)
    .sort()
    .flatMap((e) => files(join(p, e)))
}

const hex = (b) => '0x' + Buffer.from(b).toString('hex')
const unhex = (s) => {
  let h = String(s).replace(/^0x/, '')
  if (h.length % 2) h = '0' + h
  return Uint8Array.from(Buffer.from(h, 'hex'))
}
const word = (s) => {
  const b = unhex(s)
  const w = new Uint8Array(32)
  w.set(b.subarray(Math.max(0, b.length - 32)), 32 - Math.min(32, b.length))
  return w
}

function logsHash(logs) {
  const items = (logs ?? []).map((l) => [unhex(l.address), l.topics.map(word), unhex(l.data)])
  return hex(keccak_256(RLP.encode(items)))
}

/** Every one-vector case of a fixture file. */
function* cases(file) {
  let doc
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    return
  }
  for (const [name, t] of Object.entries(doc)) {
    if (!t || typeof t !== 'object' || !t.post || !t.transaction) continue
    for (const [fork, entries] of Object.entries(t.post)) {
      if (forks && !forks.has(fork)) continue
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]
        const ix = e.indexes ?? { data: 0, gas: 0, value: 0 }
        const tx = { ...t.transaction }
        tx.data = [t.transaction.data[ix.data]]
        tx.gasLimit = [t.transaction.gasLimit[ix.gas]]
        tx.value = [t.transaction.value[ix.value]]
        if (Array.isArray(t.transaction.accessLists)) {
          const al = t.transaction.accessLists[ix.data]
          if (al === undefined || al === null) delete tx.accessLists
          else tx.accessLists = [al]
        }
        const entry = { indexes: { data: 0, gas: 0, value: 0 }, hash: e.hash, logs: e.logs }
        if (e.expectException) entry.expectException = e.expectException
        const test = { env: t.env, pre: t.pre, transaction: tx, post: { [fork]: [entry] } }
        yield { file, name, fork, index: i, test, hash: e.hash, logs: e.logs, expectException: e.expectException }
      }
    }
  }
}

class Worker {
  constructor() {
    this.start()
  }
  start() {
    const env = { ...process.env }
    if (selfcheck) env.EVMDIFF_EJS_SELFCHECK = '1'
    this.child = spawn('node', [workerPath], { stdio: ['pipe', 'pipe', 'pipe'], env })
    this.child.stderr.on('data', (d) => {
      this.stderr = ((this.stderr ?? '') + d.toString()).slice(-4000)
    })
    this.lines = []
    this.waiting = undefined
    const rl = createInterface({ input: this.child.stdout })
    rl.on('line', (l) => {
      if (this.waiting) {
        const w = this.waiting
        this.waiting = undefined
        w(l)
      } else this.lines.push(l)
    })
    this.ready = this.next(30)
  }
  next(seconds) {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift())
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined
        resolve(undefined)
      }, seconds * 1000)
      this.waiting = (l) => {
        clearTimeout(timer)
        resolve(l)
      }
    })
  }
  async run(id, req) {
    await this.ready
    const t0 = process.hrtime.bigint()
    this.child.stdin.write(JSON.stringify({ id, ...req }) + '\n')
    const line = await this.next(timeout)
    const us = Number(process.hrtime.bigint() - t0) / 1000
    if (line === undefined) {
      this.child.kill('SIGKILL')
      this.start()
      return { timeout: true, us }
    }
    return { answer: JSON.parse(line), us }
  }
  stop() {
    this.child.stdin.end()
  }
}

const all = []
for (const p of paths) for (const f of files(p)) if (!skip || !skip.test(f)) all.push(f)
if (out) writeFileSync(out, '')

const stats = { total: 0, pass: 0, fail: 0, failed: 0, unsupported: 0, timeout: 0, logsFail: 0 }
const failures = {
  list: [],
  push(f) {
    this.list.push(f)
    if (out) appendFileSync(out, JSON.stringify(f) + '\n')
  },
}
const latencies = []
let id = 0

async function check(c, w) {
  const myId = ++id
  const { answer, timeout: to, us } = await w.run(myId, { fork: c.fork, test: c.test, profile: null })
  stats.total++
  const where = { file: relative(process.cwd(), c.file), name: c.name, fork: c.fork, index: c.index }
  if (to) {
    stats.timeout++
    failures.push({ ...where, kind: 'timeout' })
    return
  }
  latencies.push(us)
  if (answer.id !== myId) throw new Error(`out of step: ${JSON.stringify(answer).slice(0, 200)}`)
  if (answer.unsupported !== undefined) {
    stats.unsupported++
    failures.push({ ...where, kind: 'unsupported', why: answer.unsupported })
    return
  }
  if (answer.failed !== undefined) {
    stats.failed++
    failures.push({ ...where, kind: 'failed', why: answer.failed.slice(0, 600) })
    return
  }
  const rootOk = answer.stateRoot === c.hash
  const lh = logsHash(answer.logs)
  const logsOk = c.logs === undefined || lh === c.logs
  if (rootOk && logsOk) {
    stats.pass++
    return
  }
  stats.fail++
  if (rootOk && !logsOk) stats.logsFail++
  failures.push({
    ...where,
    kind: rootOk ? 'logs' : 'root',
    status: answer.status,
    halt: answer.halt,
    detail: String(answer.detail ?? '').slice(0, 300),
    gasUsed: answer.gasUsed,
    expectException: c.expectException,
  })
}

async function main() {
  const queue = (function* () {
    let n = 0
    for (const f of all) {
      for (const c of cases(f)) {
        if (n++ >= limit) return
        yield c
      }
    }
  })()
  const t0 = Date.now()
  const workers = Array.from({ length: jobs }, () => new Worker())
  let lastReport = Date.now()
  await Promise.all(
    workers.map(async (w) => {
      for (;;) {
        const { value: c, done } = queue.next()
        if (done) break
        await check(c, w)
        if (Date.now() - lastReport > 30000) {
          lastReport = Date.now()
          process.stderr.write(`... ${stats.total} cases, ${stats.pass} pass\n`)
        }
      }
    }),
  )
  for (const w of workers) w.stop()
  latencies.sort((a, b) => a - b)
  const med = latencies.length ? latencies[Math.floor(latencies.length / 2)] : 0
  const secs = (Date.now() - t0) / 1000
  console.log(
    JSON.stringify({
      ...stats,
      passRate: stats.total ? +(stats.pass / stats.total).toFixed(4) : 0,
      medianUs: Math.round(med),
      seconds: secs,
    }),
  )
  if (!out) for (const f of failures.list.slice(0, 50)) console.log(JSON.stringify(f))
}

await main()
