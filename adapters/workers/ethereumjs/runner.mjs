// One request of the worker protocol run on ethereumjs: a one-vector GeneralStateTest under a
// fork and an optional profile, answered with the normalized outcome (docs/backends.md).

import { createBlock } from '@ethereumjs/block'
import { Common, Mainnet, createCustomCommon } from '@ethereumjs/common'
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager'
import {
  createAccessList2930Tx,
  createBlob4844Tx,
  createEOACode7702Tx,
  createFeeMarket1559Tx,
  createLegacyTx,
} from '@ethereumjs/tx'
import {
  Account,
  Address,
  EthereumJSError,
  hexToBytes,
  privateToAddress,
  bigIntToUnpaddedBytes,
  bytesToHex,
  createAddressFromString,
  setLengthLeft,
  utf8ToBytes,
} from '@ethereumjs/util'
import { buildBlock, createVM, runTx } from '@ethereumjs/vm'
import { keccak_256 } from '@noble/hashes/sha3.js'

import { kzg } from './kzg.mjs'
import { RejectError, UnsupportedError, checkProfile, evmOptions, finishEvm } from './profile.mjs'

/** ethereum/tests fork names → ethereumjs hardfork names. */
const FORKS = {
  Frontier: 'chainstart',
  Homestead: 'homestead',
  EIP150: 'tangerineWhistle',
  TangerineWhistle: 'tangerineWhistle',
  EIP158: 'spuriousDragon',
  SpuriousDragon: 'spuriousDragon',
  Byzantium: 'byzantium',
  Constantinople: 'constantinople',
  ConstantinopleFix: 'petersburg',
  Petersburg: 'petersburg',
  Istanbul: 'istanbul',
  Berlin: 'berlin',
  London: 'london',
  Paris: 'paris',
  Merge: 'paris',
  Shanghai: 'shanghai',
  Cancun: 'cancun',
  Prague: 'prague',
  Osaka: 'osaka',
}

const ORDER = [
  'chainstart', 'homestead', 'tangerineWhistle', 'spuriousDragon', 'byzantium', 'constantinople',
  'petersburg', 'istanbul', 'berlin', 'london', 'paris', 'shanghai', 'cancun', 'prague', 'osaka',
]

const gte = (hf, other) => ORDER.indexOf(hf) >= ORDER.indexOf(other)

// ---------------------------------------------------------------- numbers and bytes

/** A JSON number (hex string, decimal string or number) as a bigint; "0x" is 0. */
function big(v, what = 'number') {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'bigint') return v
  if (typeof v === 'number') return BigInt(v)
  if (typeof v !== 'string') throw new TypeError(`${what} is not a number: ${JSON.stringify(v)}`)
  // ethereum/tests write out-of-range values (> 2^256 - 1) as "0x:bigint 0x…"
  const s = v.trim().replace(/^0x:bigint\s+/, '')
  if (s === '0x' || s === '') return 0n
  if (/^0x[0-9a-fA-F]+$/.test(s)) return BigInt(s)
  if (/^[0-9]+$/.test(s)) return BigInt(s)
  throw new TypeError(`${what} is not a number: ${v}`)
}

/** Hex (with or without 0x, odd length allowed) as bytes. */
function bytes(v) {
  if (v === undefined || v === null) return new Uint8Array(0)
  let s = String(v)
  if (s.startsWith('0x') || s.startsWith('0X')) s = s.slice(2)
  if (s.length % 2 === 1) s = '0' + s
  if (!/^[0-9a-fA-F]*$/.test(s)) throw new TypeError(`not hex: ${String(v).slice(0, 80)}`)
  return Uint8Array.from(Buffer.from(s, 'hex'))
}

const hexBig = (n) => '0x' + n.toString(16)
const hexBytes = (b) => '0x' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
/** A bigint as even-length hex, "0x" for zero (the encoding ethereumjs' RLP fields expect). */
const evenHex = (n) => bytesToHex(bigIntToUnpaddedBytes(n))
const slotKey = (n) => setLengthLeft(bigIntToUnpaddedBytes(n), 32)
const normAddress = (a) => '0x' + String(a).toLowerCase().replace(/^0x/, '').padStart(40, '0')

// ---------------------------------------------------------------- common, block, blockchain

/** ethereumjs wants a KZG library in Common before it builds any blob transaction (a state
 * test's blob transaction carries no blobs); the point evaluation precompile uses it too. */
function makeCommon(hardfork, chainId) {
  const customCrypto = { kzg }
  if (chainId === 1n) return new Common({ chain: Mainnet, hardfork, customCrypto })
  return createCustomCommon({ chainId: Number(chainId), name: 'evmdiff' }, Mainnet, {
    hardfork,
    customCrypto,
  })
}

/** BLOCKHASH: the state-test convention of geth and revm, keccak256 of the number in decimal
 * (ethereumjs itself only asks for the 256 previous blocks, otherwise it pushes zero). */
const blockchain = {
  async getBlock(n) {
    const h = keccak_256(utf8ToBytes(BigInt(n).toString(10)))
    return { hash: () => h }
  },
  async putBlock() {},
  shallowCopy() {
    return this
  },
}

function makeBlock(env, hardfork, common) {
  const header = {
    number: big(env.currentNumber) ?? 0n,
    coinbase: normAddress(env.currentCoinbase ?? '0x'),
    difficulty: big(env.currentDifficulty) ?? 0n,
    gasLimit: big(env.currentGasLimit) ?? 0n,
    timestamp: big(env.currentTimestamp) ?? 0n,
  }
  if (gte(hardfork, 'london')) header.baseFeePerGas = big(env.currentBaseFee) ?? 0n
  if (gte(hardfork, 'paris')) {
    header.mixHash = setLengthLeft(bytes(env.currentRandom ?? '0x'), 32)
    header.difficulty = 0n
  }
  if (gte(hardfork, 'cancun')) header.excessBlobGas = big(env.currentExcessBlobGas) ?? 0n
  return createBlock({ header }, { common, skipConsensusFormatValidation: true })
}

// ---------------------------------------------------------------- transaction

function makeTx(t, common) {
  const one = (v, what) => (Array.isArray(v) ? v[0] : v) ?? (what === 'data' ? '0x' : '0x0')
  const to = t.to === undefined || t.to === null || t.to === '' ? undefined : normAddress(t.to)
  const data = {
    nonce: big(t.nonce) ?? 0n,
    gasLimit: big(one(t.gasLimit, 'gasLimit')),
    value: big(one(t.value, 'value')),
    data: bytes(one(t.data, 'data')),
    to,
  }
  const accessList = Array.isArray(t.accessLists) ? t.accessLists[0] : t.accessList
  const al = (accessList ?? []).map((e) => ({
    address: normAddress(e.address),
    storageKeys: (e.storageKeys ?? []).map((k) => bytesToHex(setLengthLeft(bytes(k), 32))),
  }))
  // Not frozen: the sender is set below instead of being recovered from a signature.
  const opts = { common, allowUnlimitedInitCodeSize: false, freeze: false }
  let tx
  if (t.maxFeePerBlobGas !== undefined) {
    tx = createBlob4844Tx(
      {
        ...data,
        maxFeePerGas: big(t.maxFeePerGas ?? t.gasPrice) ?? 0n,
        maxPriorityFeePerGas: big(t.maxPriorityFeePerGas ?? t.gasPrice) ?? 0n,
        maxFeePerBlobGas: big(t.maxFeePerBlobGas),
        blobVersionedHashes: (t.blobVersionedHashes ?? []).map((h) => bytesToHex(bytes(h))),
        accessList: al,
      },
      opts,
    )
  } else if (t.authorizationList !== undefined && t.authorizationList !== null) {
    const authorizationList = t.authorizationList.map((a) => ({
      chainId: evenHex(big(a.chainId) ?? 0n),
      address: normAddress(a.address),
      nonce: evenHex(big(a.nonce) ?? 0n),
      yParity: evenHex(big(a.yParity ?? a.v) ?? 0n),
      r: evenHex(big(a.r) ?? 0n),
      s: evenHex(big(a.s) ?? 0n),
    }))
    tx = createEOACode7702Tx(
      {
        ...data,
        maxFeePerGas: big(t.maxFeePerGas ?? t.gasPrice) ?? 0n,
        maxPriorityFeePerGas: big(t.maxPriorityFeePerGas ?? t.gasPrice) ?? 0n,
        accessList: al,
        authorizationList,
      },
      opts,
    )
  } else if (t.maxFeePerGas !== undefined) {
    tx = createFeeMarket1559Tx(
      {
        ...data,
        maxFeePerGas: big(t.maxFeePerGas),
        maxPriorityFeePerGas: big(t.maxPriorityFeePerGas) ?? 0n,
        accessList: al,
      },
      opts,
    )
  } else if (accessList !== undefined && accessList !== null) {
    tx = createAccessList2930Tx({ ...data, gasPrice: big(t.gasPrice) ?? 0n, accessList: al }, opts)
  } else {
    tx = createLegacyTx({ ...data, gasPrice: big(t.gasPrice) ?? 0n }, opts)
  }
  // The transaction is not signed: in a state test the sender is the address of `secretKey`,
  // and signing plus recovering it again (pure-JS secp256k1) would be ~40% of a small case.
  // A chain's transaction whose key is unknown (zero: a BlockchainTest's, whose sender evmdiff
  // recovered from its signature) has its `sender` given.
  const sender =
    big(t.secretKey ?? '0x0') === 0n && t.sender
      ? createAddressFromString(normAddress(t.sender))
      : senderOf(t.secretKey)
  tx.getSenderAddress = () => sender
  tx.isSigned = () => true
  return tx
}

const senders = new Map()
/** The address of a secret key (cached: fuzzing uses one or two keys). */
function senderOf(secretKey) {
  const key = bytesToHex(setLengthLeft(bytes(secretKey), 32))
  let a = senders.get(key)
  if (a === undefined) {
    a = new Address(privateToAddress(hexToBytes(key)))
    senders.set(key, a)
  }
  return a
}

// ---------------------------------------------------------------- state

/** The pre-state as the protocol's `post` (zero slots omitted, minimal hex). */
function dumpPre(pre) {
  const out = {}
  for (const [addr, acc] of Object.entries(pre ?? {})) {
    const storage = {}
    for (const [k, v] of Object.entries(acc.storage ?? {})) {
      const val = big(v)
      if (val !== 0n) storage[hexBig(big(k))] = hexBig(val)
    }
    out[normAddress(addr)] = {
      balance: hexBig(big(acc.balance) ?? 0n),
      nonce: hexBig(big(acc.nonce) ?? 0n),
      code: hexBytes(bytes(acc.code ?? '0x')),
      storage,
    }
  }
  return out
}

async function loadPre(sm, pre) {
  await sm.checkpoint()
  for (const [addr, acc] of Object.entries(pre ?? {})) {
    const address = createAddressFromString(normAddress(addr))
    await sm.putAccount(address, new Account(big(acc.nonce) ?? 0n, big(acc.balance) ?? 0n))
    const code = bytes(acc.code ?? '0x')
    if (code.length > 0) await sm.putCode(address, code)
    for (const [k, v] of Object.entries(acc.storage ?? {})) {
      const val = big(v)
      if (val === 0n) continue
      await sm.putStorage(address, slotKey(big(k)), bigIntToUnpaddedBytes(val))
    }
  }
  await sm.commit()
}

/** Records every address and storage slot the execution writes, so that the post-state can be
 * enumerated (the trie itself only holds hashed keys). */
function track(sm, pre) {
  const touched = new Map() // address hex → Set of slot bigints
  const note = (address) => {
    const a = address.toString()
    let slots = touched.get(a)
    if (slots === undefined) {
      slots = new Set()
      touched.set(a, slots)
    }
    return slots
  }
  for (const [addr, acc] of Object.entries(pre ?? {})) {
    const slots = note(normAddress(addr))
    for (const k of Object.keys(acc.storage ?? {})) slots.add(big(k))
  }
  for (const m of ['putAccount', 'deleteAccount', 'modifyAccountFields', 'putCode', 'clearStorage']) {
    const orig = sm[m].bind(sm)
    sm[m] = (address, ...rest) => {
      note(address)
      return orig(address, ...rest)
    }
  }
  const putStorage = sm.putStorage.bind(sm)
  sm.putStorage = (address, key, value) => {
    note(address).add(BigInt(bytesToHex(key)))
    return putStorage(address, key, value)
  }
  return touched
}

async function dumpPost(sm, touched) {
  const out = {}
  const addrs = [...touched.keys()].sort()
  for (const a of addrs) {
    const address = createAddressFromString(a)
    const acc = await sm.getAccount(address)
    if (acc === undefined) continue
    const code = await sm.getCode(address)
    const storage = {}
    const slots = [...touched.get(a)].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
    for (const k of slots) {
      const v = await sm.getStorage(address, slotKey(k))
      if (v.length === 0) continue
      const val = BigInt(bytesToHex(v))
      if (val !== 0n) storage[hexBig(k)] = hexBig(val)
    }
    out[a] = { balance: hexBig(acc.balance), nonce: hexBig(acc.nonce), code: hexBytes(code), storage }
  }
  return out
}

/** The state root of a `post` map, computed on a fresh trie (self-check of the dump). */
export async function rootOf(post, common) {
  const sm = new MerkleStateManager({ common })
  const pre = {}
  for (const [a, acc] of Object.entries(post)) pre[a] = acc
  await loadPre(sm, pre)
  return bytesToHex(await sm.getStateRoot())
}

// ---------------------------------------------------------------- outcome

/** ethereumjs error strings → evmdiff HaltClass names. */
function haltClass(err) {
  if (err.startsWith('invalid JUMP')) return 'invalid-jump'
  switch (err) {
    case 'out of gas':
    case 'code store out of gas':
      return 'out-of-gas'
    case 'invalid opcode':
      return 'invalid-opcode'
    case 'stack underflow':
      return 'stack-underflow'
    case 'stack overflow':
      return 'stack-overflow'
    case 'static state change':
      return 'static-violation'
    case 'create collision':
      return 'create-collision'
    case 'code size to deposit exceeds maximum code size':
    case 'initcode exceeds max initcode size':
      return 'code-size-limit'
    case 'invalid bytecode deployed':
      return 'invalid-code-prefix'
    case 'value out of range':
      // RETURNDATACOPY past the end of the return data (EIP-211)
      return 'return-data-out-of-bounds'
    default:
      return 'other'
  }
}

/** A refused transaction: the pre-state, its root computed on a fresh trie (the VM's state may
 * be half-way through an aborted execution). */
async function rejected(test, common, detail) {
  const post = dumpPre(test.pre)
  return {
    status: 'rejected',
    gasUsed: '0x0',
    refund: '0x0',
    output: '0x',
    logs: [],
    post,
    stateRoot: await rootOf(post, common),
    detail,
  }
}

const selfCheck = process.env.EVMDIFF_EJS_SELFCHECK === '1'
// A transaction whose gas limit exceeds the block's is refused, as in revm and as the fixtures
// expect (TransactionException.GAS_ALLOWANCE_EXCEEDED); EVMDIFF_EJS_SKIP_BLOCK_GAS_LIMIT=1 runs it.
const skipBlockGasLimit = process.env.EVMDIFF_EJS_SKIP_BLOCK_GAS_LIMIT === '1'

export async function runCase(req) {
  const forkName = req.fork
  const hardfork = FORKS[forkName] ?? (ORDER.includes(forkName) ? forkName : undefined)
  if (hardfork === undefined) return { unsupported: `ethereumjs worker: unknown fork ${forkName}` }
  const test = req.test
  if (test === undefined || test === null) throw new Error('request without `test`')
  const profile = req.profile ?? null
  const why = checkProfile(profile)
  if (why !== undefined) return { unsupported: why }

  const env = test.env ?? {}
  const chainId = big(env.currentChainID) ?? 1n
  const common = makeCommon(hardfork, chainId)

  // With caches, writes reach the trie (and its hashing) once, when the root is asked for;
  // without them every account write during execution rehashes a trie path.
  const sm = new MerkleStateManager({ common, caches: new Caches() })
  await loadPre(sm, test.pre)

  let tx
  let block
  try {
    tx = makeTx(test.transaction ?? {}, common)
  } catch (e) {
    if (e instanceof EthereumJSError || e instanceof RangeError) {
      return rejected(test, makeCommon(hardfork, chainId), `invalid transaction: ${e.message}`)
    }
    throw e
  }
  try {
    block = makeBlock(env, hardfork, common)
  } catch (e) {
    if (e instanceof EthereumJSError) return rejected(test, makeCommon(hardfork, chainId), `invalid block header: ${e.message}`)
    throw e
  }

  const vm = await createVM({
    common,
    stateManager: sm,
    blockchain,
    evmOpts: evmOptions(profile, common),
  })
  finishEvm(vm.evm, profile)

  // Validation errors come before the first message; anything thrown after is a failure.
  let executing = false
  vm.evm.events.on('beforeMessage', (_msg) => {
    executing = true
  })
  const steps = req.steps === true ? recordSteps(vm.evm, common.gteHardfork('tangerineWhistle')) : undefined

  const touched = track(sm, test.pre)
  let res
  try {
    res = await runTx(vm, { tx, block, skipBlockGasLimitValidation: skipBlockGasLimit })
  } catch (e) {
    if (e instanceof RejectError) return rejected(test, makeCommon(hardfork, chainId), e.message)
    if (e instanceof UnsupportedError) return { unsupported: e.message }
    if (!executing && e instanceof EthereumJSError) {
      return rejected(test, makeCommon(hardfork, chainId), `invalid transaction: ${e.message}`)
    }
    throw e
  }

  const answer = outcomeOf(vm, tx, res, hardfork)
  const post = await dumpPost(sm, touched)
  const stateRoot = bytesToHex(await sm.getStateRoot())
  if (selfCheck) {
    const root = await rootOf(post, makeCommon(hardfork, chainId))
    if (root !== stateRoot) {
      throw new Error(`worker bug: the post-state dump hashes to ${root}, ethereumjs' root is ${stateRoot}`)
    }
  }
  answer.post = post
  answer.stateRoot = stateRoot
  if (steps !== undefined) answer.steps = steps
  return answer
}

/** The protocol's answer for an executed transaction, without its post-state. */
function outcomeOf(vm, tx, res, hardfork) {
  const exec = res.execResult
  const errObj = exec.exceptionError
  let err = errObj?.error
  // Frontier keeps a contract whose code deposit ran out of gas (with empty code).
  if (err === 'code store out of gas' && hardfork === 'chainstart') err = undefined
  const toPrecompile = tx.to !== undefined && vm.evm.getPrecompile(tx.to) !== undefined
  let status
  let halt
  if (err === undefined) status = 'success'
  else if (toPrecompile && errObj.evmdiffRevert !== true && err !== 'out of gas') {
    // The transaction called a precompile that failed (ethereumjs signals several precompile
    // failures as `revert` or with its own words; all consume the gas).
    status = 'halt'
    halt = 'precompile-failure'
  } else if (err === 'revert') status = 'revert'
  else {
    status = 'halt'
    halt = toPrecompile ? 'out-of-gas' : haltClass(err)
  }

  const gasUsed = res.totalGasSpent
  const beforeRefund = exec.executionGasUsed + tx.getIntrinsicGas()
  const refund = beforeRefund > gasUsed ? beforeRefund - gasUsed : 0n

  let output = '0x'
  if (status === 'success' || status === 'revert') output = hexBytes(exec.returnValue ?? new Uint8Array(0))

  const logs =
    status === 'success'
      ? (exec.logs ?? []).map(([address, topics, data]) => ({
          address: hexBytes(address),
          topics: topics.map((t) => hexBytes(t)),
          data: hexBytes(data),
        }))
      : []

  const answer = {
    status,
    gasUsed: hexBig(gasUsed),
    refund: hexBig(refund),
    output,
    logs,
    detail: err === undefined ? 'success' : `${err}${errObj.evmdiffWhy ? ` (${errObj.evmdiffWhy})` : ''}`,
  }
  if (halt !== undefined) answer.halt = halt
  return answer
}

// ---------------------------------------------------------------- the chain form

const ZERO32 = new Uint8Array(32)

/** BLOCKHASH in a chain: the hashes of the chain's own headers, by number (the request's
 * `blockHashes`); zero for a number it does not list. */
function chainBlockchain(known) {
  const hashes = new Map()
  for (const [n, h] of Object.entries(known ?? {})) hashes.set(big(n), setLengthLeft(bytes(h), 32))
  return {
    async getBlock(n) {
      const h = hashes.get(BigInt(n)) ?? ZERO32
      return { hash: () => h }
    },
    async putBlock() {},
    shallowCopy() {
      return this
    },
  }
}

/** The header fields the block builder takes, from the block's `env` (the state test's, plus
 * `parentHash` and `parentBeaconBlockRoot`). */
function headerData(env, hardfork) {
  const header = {
    number: big(env.currentNumber) ?? 0n,
    coinbase: normAddress(env.currentCoinbase ?? '0x'),
    difficulty: big(env.currentDifficulty) ?? 0n,
    gasLimit: big(env.currentGasLimit) ?? 0n,
    timestamp: big(env.currentTimestamp) ?? 0n,
    parentHash: setLengthLeft(bytes(env.parentHash ?? '0x'), 32),
  }
  if (gte(hardfork, 'london')) header.baseFeePerGas = big(env.currentBaseFee) ?? 0n
  if (gte(hardfork, 'paris')) {
    header.mixHash = setLengthLeft(bytes(env.currentRandom ?? '0x'), 32)
    header.difficulty = 0n
  }
  if (gte(hardfork, 'cancun')) {
    header.excessBlobGas = big(env.currentExcessBlobGas) ?? 0n
    header.parentBeaconBlockRoot = setLengthLeft(bytes(env.parentBeaconBlockRoot ?? '0x'), 32)
  }
  return header
}

/** A transaction the block builder or the VM refused: dropped, the state as it was. */
async function droppedTx(sm, touched, detail) {
  return {
    status: 'rejected',
    gasUsed: '0x0',
    refund: '0x0',
    output: '0x',
    logs: [],
    post: await dumpPost(sm, touched),
    detail,
  }
}

/**
 * The chain form (docs/protocol.md): one VM on one state manager for the whole chain, each
 * block built by ethereumjs' own `buildBlock` — its EIP-4788 and EIP-2935 system writes, every
 * transaction through `addTransaction` (`runTx` on the state the previous one left, refused when
 * the block has not enough gas or blob gas left), then `build()`: the miner's reward before the
 * Merge, the withdrawals, the Prague requests. A transaction the builder refuses is dropped and
 * the block goes on; a block whose `build()` finds a request contract empty or failing is
 * refused, and nothing after it runs. The per-transaction answers have no `stateRoot` (asking
 * the trie for it inside the builder's open checkpoint would flush its caches mid-block); the
 * block's end has the root `build()` computed.
 */
export async function runChain(req) {
  const forkName = req.fork
  const hardfork = FORKS[forkName] ?? (ORDER.includes(forkName) ? forkName : undefined)
  if (hardfork === undefined) return { unsupported: `ethereumjs worker: unknown fork ${forkName}` }
  const chain = req.chain
  if (chain === undefined || chain === null) throw new Error('request without `chain`')
  const profile = req.profile ?? null
  const why = checkProfile(profile)
  if (why !== undefined) return { unsupported: why }

  const chainId = big(chain.chainId) ?? 1n
  const common = makeCommon(hardfork, chainId)
  const sm = new MerkleStateManager({ common, caches: new Caches() })
  await loadPre(sm, chain.pre)
  const vm = await createVM({
    common,
    stateManager: sm,
    blockchain: chainBlockchain(chain.blockHashes),
    evmOpts: evmOptions(profile, common),
  })
  finishEvm(vm.evm, profile)
  let executing = false
  vm.evm.events.on('beforeMessage', (_msg) => {
    executing = true
  })
  const touched = track(sm, chain.pre)

  const blocks = []
  for (const b of chain.blocks ?? []) {
    const env = b.env ?? {}
    const builder = await buildBlock(vm, {
      headerData: headerData(env, hardfork),
      withdrawals: gte(hardfork, 'shanghai') ? (b.withdrawals ?? []) : undefined,
      blockOpts: { putBlockIntoBlockchain: false, skipConsensusFormatValidation: true },
    })
    const txs = []
    for (const t of b.transactions ?? []) {
      let tx
      try {
        tx = makeTx(t, common)
      } catch (e) {
        if (e instanceof EthereumJSError || e instanceof RangeError) {
          txs.push(await droppedTx(sm, touched, `invalid transaction: ${e.message}`))
          continue
        }
        throw e
      }
      executing = false
      let res
      // A transaction a profile rule rejects is thrown out of ethereumjs mid-execution,
      // with what it changed so far still in the state: our own checkpoint around it undoes
      // that, as a sequencer that refuses it must.
      await sm.checkpoint()
      try {
        res = await builder.addTransaction(tx, { allowNoBlobs: true })
        await sm.commit()
      } catch (e) {
        await sm.revert()
        if (e instanceof RejectError) {
          txs.push(await droppedTx(sm, touched, e.message))
          continue
        }
        if (e instanceof UnsupportedError) return { unsupported: e.message }
        if (!executing && e instanceof Error) {
          txs.push(await droppedTx(sm, touched, `invalid transaction: ${e.message}`))
          continue
        }
        throw e
      }
      const answer = outcomeOf(vm, tx, res, hardfork)
      answer.post = await dumpPost(sm, touched)
      txs.push(answer)
    }
    let built
    try {
      built = await builder.build()
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('system contract')) {
        blocks.push({ txs, invalid: e.message })
        break
      }
      throw e
    }
    blocks.push({
      txs,
      end: {
        post: await dumpPost(sm, touched),
        stateRoot: bytesToHex(built.block.header.stateRoot),
        gasUsed: hexBig(builder.gasUsed),
      },
    })
  }
  return { blocks }
}
// The execution's steps in the protocol's conventions (docs/protocol.md, "Steps"): EIP-3155
// fields from ethereumjs' `step` event (emitted before each instruction, with its whole gas
// charge), depth from 1, the refund counter before the instruction. ethereumjs does not say
// which instruction failed: the last step of a message that ends in an exceptional error is
// marked with it (its cost is then not compared). Return data is not in the event: left out.
const CALLS = new Set([0xf1, 0xf2, 0xf4, 0xfa])

function recordSteps(evm, eip150) {
  const steps = []
  // Per active message, the index of its last step.
  const frames = []
  evm.events.on('beforeMessage', () => {
    frames.push(-1)
  })
  evm.events.on('afterMessage', (result) => {
    const last = frames.pop()
    const error = result?.execResult?.exceptionError?.error
    if (last !== undefined && last >= 0 && error !== undefined && error !== 'revert' && error !== 'code store out of gas') {
      steps[last].error = error
      delete steps[last].gasCost
    }
  })
  evm.events.on('step', (e) => {
    if (frames.length > 0) frames[frames.length - 1] = steps.length
    let cost = e.opcode.dynamicFee
    if (CALLS.has(e.opcode.code)) {
      // ethereumjs charges the gas a CALL makes available to its callee apart (only what
      // the callee used, after it returns): add it, as geth and the execution spec count
      // it. EIP-150: at most all but a 64th of what is left after the call's own fee.
      const requested = e.stack[e.stack.length - 1]
      const left = e.gasLeft - cost
      const cap = eip150 ? left - left / 64n : requested
      cost += requested < cap ? requested : cap
    }
    steps.push({
      pc: e.pc,
      op: e.opcode.code,
      gas: hexBig(e.gasLeft),
      gasCost: hexBig(cost),
      memSize: Number(e.memoryWordCount) * 32,
      stack: e.stack.map((v) => hexBig(v)),
      depth: e.depth + 1,
      refund: Number(e.gasRefund),
      memory: hexBytes(e.memory),
    })
  })
  return steps
}
