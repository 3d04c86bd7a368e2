// A minimal evmdiff worker (JSON-lines protocol version 1, docs/protocol.md) on ethereumjs.
// To plug in your own EVM, copy this file and replace `execute()` with a call into your EVM;
// keep the loop at the bottom (hello line, one answer line per request in order, exceptions
// answered as `failed`). Declare it in a backends file, then run `evmdiff --backends-file FILE`:
//
//   [[worker]]
//   name = "my-evm"
//   command = ["node", "js_worker.mjs"]     # relative paths: from FILE's folder
//   forks = ["Shanghai", "Cancun"]
//   rules = false                           # mainnet only: it sits out profiles with rules
//   chains = true                           # it executes the chain form (executeChain below)
// A state test comes as `test` (execute); every other case — a chain of blocks — as `chain`
// (executeChain, docs/protocol.md "The chain form"); drop `chains = true` and `chains: true`
// in the hello to run state tests only. A chain's transaction whose `secretKey` is zero (a
// BlockchainTest's, key unknown) is refused here; ../ethereumjs/ sends it as its `sender`.
// The full ethereumjs worker (profiles, every fork) is
// ../ethereumjs/.

import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
console.log = console.info = console.debug = console.error // stdout: protocol lines only

// The EVM's packages, from the shipped ethereumjs worker's node_modules (an ES module here only
// looks for node_modules next to itself and above): point this at your own package.json.
const require = createRequire(new URL('../ethereumjs/package.json', import.meta.url))
const { createBlock } = require('@ethereumjs/block')
const { Common, Mainnet } = require('@ethereumjs/common')
const { Caches, MerkleStateManager } = require('@ethereumjs/statemanager')
const { createTx } = require('@ethereumjs/tx')
const U = require('@ethereumjs/util')
const { buildBlock, createVM, runTx } = require('@ethereumjs/vm')
const { keccak_256 } = require('@noble/hashes/sha3.js')
const VERSION = require('./node_modules/@ethereumjs/vm/package.json').version
// ethereumjs wants a KZG library for blob transactions and the point evaluation precompile.
const { kzg } = await import(new URL('../ethereumjs/kzg.mjs', import.meta.url))

const FORKS = { Shanghai: 'shanghai', Cancun: 'cancun' }
/** ethereumjs' error words → the protocol's halt classes ("other" for the rest). */
const HALTS = { 'out of gas': 'out-of-gas', 'invalid opcode': 'invalid-opcode',
  'stack underflow': 'stack-underflow', 'stack overflow': 'stack-overflow',
  'static state change': 'static-violation' }
// The test's encodings: numbers in hex ("0x" is 0), bytes in hex, 20-byte addresses.
const big = (v) => BigInt(v === undefined || v === '0x' ? 0 : v)
const hex = (n) => '0x' + n.toString(16)
const slot = (n) => U.setLengthLeft(U.bigIntToUnpaddedBytes(n), 32)
const addr = (a) => U.createAddressFromString('0x' + a.replace(/^0x/, '').padStart(40, '0'))

/** BLOCKHASH as in the state tests (and revm, geth): keccak256 of the number in decimal. */
const blockchain = { getBlock: async (n) => ({ hash: () => keccak_256(U.utf8ToBytes(`${n}`)) }) }
/** The signed transaction, typed by its fields (data, gasLimit, value: one element). */
function transaction(t, common) {
  if (t.authorizationList) throw new RangeError('a set-code transaction (type 4) needs Prague')
  const accessList = t.accessLists?.[0] ?? t.accessList
  const type = t.maxFeePerBlobGas ? 3 : t.maxFeePerGas ? 2 : accessList ? 1 : 0
  const tx = { ...t, type, accessList, nonce: big(t.nonce), gasLimit: big(t.gasLimit[0]),
    value: big(t.value[0]), data: t.data[0], to: t.to || undefined }
  return createTx(tx, { common }).sign(U.hexToBytes(t.secretKey))
}

/** Records every account and slot the state manager writes (the trie's keys are hashed: the
 * post-state can only list what is known to be there): address → slots. */
function track(sm, touched = new Map()) {
  const note = (a) => touched.get(`${a}`) ?? touched.set(`${a}`, new Set()).get(`${a}`)
  for (const m of ['putAccount', 'deleteAccount', 'modifyAccountFields', 'putCode']) {
    const write = sm[m].bind(sm)
    sm[m] = (a, ...rest) => (note(a), write(a, ...rest))
  }
  const putStorage = sm.putStorage.bind(sm)
  sm.putStorage = (a, k, v) => (note(a).add(BigInt(U.bytesToHex(k))), putStorage(a, k, v))
  return touched
}

/** The protocol's `post`: the touched accounts that exist, with their nonzero touched slots. */
async function dump(sm, touched) {
  const post = {}
  for (const [a, slots] of [...touched].sort()) {
    const acc = await sm.getAccount(addr(a))
    if (acc === undefined) continue
    const code = U.bytesToHex(await sm.getCode(addr(a)))
    post[a] = { balance: hex(acc.balance), nonce: hex(acc.nonce), code, storage: {} }
    for (const k of slots) {
      const v = U.bytesToBigInt(await sm.getStorage(addr(a), slot(k)))
      if (v !== 0n) post[a].storage[hex(k)] = hex(v)
    }
  }
  return post
}

/** The answer for an executed transaction, without its post-state. */
function answerOf(vm, tx, res) {
  const { exceptionError, executionGasUsed, returnValue, logs } = res.execResult
  const err = exceptionError?.error
  // A failing precompile called directly by the transaction halts (ethereumjs says `revert`).
  const toPrecompile = tx.to !== undefined && vm.evm.getPrecompile(tx.to) !== undefined
  const status = !err ? 'success' : err === 'revert' && !toPrecompile ? 'revert' : 'halt'
  const used = res.totalGasSpent
  return {
    status, gasUsed: hex(used), refund: hex(executionGasUsed + tx.getIntrinsicGas() - used),
    output: status === 'halt' ? '0x' : U.bytesToHex(returnValue),
    logs: status !== 'success' ? [] : (logs ?? []).map(([a, topics, data]) =>
      ({ address: U.bytesToHex(a), topics: topics.map(U.bytesToHex), data: U.bytesToHex(data) })),
    ...(status === 'halt' && { halt: toPrecompile && err !== 'out of gas' ? 'precompile-failure'
      : (HALTS[err] ?? (err.startsWith('invalid JUMP') ? 'invalid-jump' : 'other')) }),
  }
}

/** The pre-state into a fresh state manager whose writes are tracked. */
async function load(common, pre) {
  const sm = new MerkleStateManager({ common, caches: new Caches() })
  const touched = track(sm)
  for (const [a, acc] of Object.entries(pre)) {
    await sm.putAccount(addr(a), new U.Account(big(acc.nonce), big(acc.balance)))
    await sm.putCode(addr(a), U.hexToBytes(acc.code))
    for (const [k, v] of Object.entries(acc.storage)) {
      await sm.putStorage(addr(a), slot(big(k)), U.bigIntToUnpaddedBytes(big(v)))
    }
  }
  return { sm, touched }
}

/** Runs a chain on ethereumjs, each block built by its own block builder on one state: the
 * EIP-4788 write before the transactions, each transaction on the state the previous one left
 * (one the builder refuses is dropped), then the withdrawals. Returns the answer without `id`:
 * every transaction's result with the whole state after it, and each block's end. */
async function executeChain(fork, { pre, blockHashes, blocks }) {
  const common = new Common({ chain: Mainnet, hardfork: FORKS[fork], customCrypto: { kzg } })
  const { sm, touched } = await load(common, pre)
  // BLOCKHASH in a chain: the hashes of its own headers.
  const hashes = (n) => U.hexToBytes(blockHashes[hex(BigInt(n))] ?? '0x' + '00'.repeat(32))
  const vm = await createVM({ common, stateManager: sm,
    blockchain: { getBlock: async (n) => ({ hash: () => hashes(n) }), putBlock: async () => {} } })
  let executing = false
  vm.evm.events.on('beforeMessage', () => { executing = true })
  const out = []
  for (const { env, transactions, withdrawals } of blocks) {
    const builder = await buildBlock(vm, {
      headerData: { number: big(env.currentNumber), coinbase: env.currentCoinbase,
        gasLimit: big(env.currentGasLimit), timestamp: big(env.currentTimestamp),
        baseFeePerGas: big(env.currentBaseFee), mixHash: env.currentRandom,
        parentHash: env.parentHash, parentBeaconBlockRoot: env.parentBeaconBlockRoot,
        excessBlobGas: fork === 'Cancun' ? big(env.currentExcessBlobGas) : undefined },
      withdrawals: withdrawals ?? [],
      blockOpts: { putBlockIntoBlockchain: false, skipConsensusFormatValidation: true } })
    const txs = []
    for (const t of transactions) {
      executing = false
      let tx, res
      try {
        tx = transaction(t, common)
        res = await builder.addTransaction(tx, { allowNoBlobs: true })
      } catch (e) {
        if (executing || !(e instanceof Error)) throw e
        txs.push({ status: 'rejected', gasUsed: '0x0', refund: '0x0', output: '0x', logs: [],
          post: await dump(sm, touched), detail: e.message })
        continue
      }
      txs.push({ ...answerOf(vm, tx, res), post: await dump(sm, touched) })
    }
    const { block } = await builder.build() // withdrawals, then the state root
    out.push({ txs, end: { post: await dump(sm, touched),
      stateRoot: U.bytesToHex(block.header.stateRoot), gasUsed: hex(builder.gasUsed) } })
  }
  return { blocks: out }
}

/** Runs the case on ethereumjs; returns the answer without `id`. */
async function execute(fork, { env, pre, transaction: t }) {
  const common = new Common({ chain: Mainnet, hardfork: FORKS[fork], customCrypto: { kzg } })
  const { sm, touched } = await load(common, pre)
  const before = await dump(sm, touched) // what a rejected transaction leaves
  const header = { number: big(env.currentNumber), coinbase: env.currentCoinbase,
    gasLimit: big(env.currentGasLimit), timestamp: big(env.currentTimestamp),
    baseFeePerGas: big(env.currentBaseFee), mixHash: env.currentRandom,
    excessBlobGas: fork === 'Cancun' ? big(env.currentExcessBlobGas) : undefined }
  const block = createBlock({ header }, { common, skipConsensusFormatValidation: true })
  const vm = await createVM({ common, stateManager: sm, blockchain })
  let executing = false // an invalid transaction is refused before the first message
  vm.evm.events.on('beforeMessage', () => { executing = true })
  let tx, res
  try {
    tx = transaction(t, common)
    res = await runTx(vm, { tx, block }) // checks the block's gas limit too
  } catch (e) {
    if (executing || !(e instanceof U.EthereumJSError || e instanceof RangeError)) throw e
    return { status: 'rejected', gasUsed: '0x0', refund: '0x0', output: '0x', logs: [],
      post: before, detail: e.message }
  }
  return { ...answerOf(vm, tx, res), post: await dump(sm, touched),
    stateRoot: U.bytesToHex(await sm.getStateRoot()) } // evmdiff checks `post` against it
}

const send = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
send({ ready: true, protocol: 1, backend: 'ethereumjs-template', version: VERSION, steps: false,
  chains: true })
// One request at a time, answered in order; a worker never dies on a request.
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === '') continue
  let req = {}
  try {
    req = JSON.parse(line)
    const t0 = process.hrtime.bigint()
    if (req.profile != null || req.nativeProfile || !(req.fork in FORKS)) {
      send({ id: req.id, unsupported: `mainnet rules of ${Object.keys(FORKS).join(', ')} only` })
    } else {
      const answer = req.chain ? await executeChain(req.fork, req.chain)
        : await execute(req.fork, req.test)
      send({ id: req.id, ...answer, elapsedUs: Number((process.hrtime.bigint() - t0) / 1000n) })
    }
  } catch (e) {
    send({ id: req?.id ?? null, failed: e?.stack ?? String(e) })
  }
}
