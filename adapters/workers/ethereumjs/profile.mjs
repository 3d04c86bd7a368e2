// Profile rules applied inside ethereumjs, with the semantics of core/src/profile/behaviour.rs
// (the reference implementation is adapters/src/revm_backend/profile.rs):
//
// * opcode rules become `customOpcodes` of the EVM: `constant` pops the inputs and pushes the
//   value for the opcode's normal static gas; `invalid`, `revert-refund` and `reject` cost
//   nothing of their own and act before anything else, as an undefined opcode does;
// * precompile rules and the modexp length cap become `customPrecompiles` wrapping (or
//   replacing) ethereumjs' own; `absent` removes the precompile, so the address is an ordinary
//   account, cold under EIP-2929 (runTx only pre-warms the EVM's precompile map).
//
// * `keccak-chain-number` is a custom BLOCKHASH (base fee 20) pushing keccak256 of the chain id
//   and the number; a gas rule for an opcode is ethereumjs' own handler under the profile's
//   base fee, for a precompile a wrapper running ethereumjs' precompile with all the gas it
//   wants; an added P256VERIFY runs ethereumjs' Osaka P256VERIFY at the profile's price (custom
//   precompiles join the map runTx pre-warms).
//
// `reject` throws a RejectError, which no part of ethereumjs catches: runTx gives up and the
// worker answers `rejected` with the pre-state.

import { Common, Mainnet } from '@ethereumjs/common'
import { EVMError, getActivePrecompiles, getOpcodesForHF, paramsEVM } from '@ethereumjs/evm'
import { createAddressFromString } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'

export class RejectError extends Error {}
export class UnsupportedError extends Error {}

/** (inputs popped, static gas) of the opcodes a `constant` rule may replace
 * (`constant_shape` in core/src/profile.rs). */
function constantShape(op) {
  if ([0x30, 0x32, 0x33, 0x34, 0x36, 0x38, 0x3a, 0x3d].includes(op)) return [0, 2]
  if ((op >= 0x41 && op <= 0x46) || op === 0x48 || op === 0x4a) return [0, 2]
  if (op === 0x47) return [0, 5]
  if (op === 0x40) return [1, 20]
  if (op === 0x49) return [1, 3]
  return undefined
}

const MODEXP = '0000000000000000000000000000000000000005'
const unprefixed = (a) => String(a).toLowerCase().replace(/^0x/, '').padStart(40, '0')

/** The protocol's profile keys this worker applies; any other key is a rule it cannot. */
const PROFILE_KEYS = ['name', 'baseFork', 'opcodes', 'precompiles', 'limits', 'addedPrecompiles', 'gas']

/** The added-precompile implementations this worker has. */
const IMPLEMENTATIONS = ['p256verify-rip7212']
const P256 = '0000000000000000000000000000000000000100'

/** ethereumjs' own P256VERIFY (EIP-7951, in its Osaka precompile map): the verification an
 *  added `p256verify-rip7212` runs, at the profile's price instead of 6,900. */
function p256Verifier() {
  const osaka = new Common({ chain: Mainnet, hardfork: 'osaka' })
  return getActivePrecompiles(osaka).get(P256)
}

/** An added precompile: out of gas below `gas` (all the forwarded gas consumed), else the
 *  implementation's answer with `gas` charged. */
function added(implementation, gas) {
  const price = BigInt(gas)
  const verify = p256Verifier()
  return (opts) => {
    if (opts.gasLimit < price) {
      const e = new EVMError(EVMError.errorMessages.OUT_OF_GAS)
      return { returnValue: new Uint8Array(0), executionGasUsed: opts.gasLimit, exceptionError: e }
    }
    const out = verify({ ...opts, gasLimit: 1n << 62n })
    if (out.exceptionError !== undefined) return out
    return { returnValue: out.returnValue, executionGasUsed: price }
  }
}

function opcodeRules(profile) {
  return Object.entries(profile?.opcodes ?? {}).map(([k, r]) => [Number(k), r])
}

/** Why the profile cannot be applied here, or undefined (mirrors revm's `check`). */
export function checkProfile(profile) {
  if (profile === null || profile === undefined) return undefined
  // Any other rule (docs/profiles.md) is not implemented here: sit out.
  for (const key of Object.keys(profile)) {
    if (!PROFILE_KEYS.includes(key)) return `profile rules \`${key}\` are not implemented by this worker`
  }
  for (const [op, rule] of opcodeRules(profile)) {
    const b = rule?.behaviour
    if (!Number.isInteger(op) || op < 0 || op > 0xff) return `bad opcode key in profile: ${op}`
    if (b === 'supported' || b === 'invalid' || b === 'revert-refund' || b === 'reject') continue
    if (b === 'constant' && constantShape(op) !== undefined) continue
    if (b === 'keccak-chain-number' && op === 0x40) continue
    return `opcode rule \`${b}\` for 0x${op.toString(16).padStart(2, '0')}`
  }
  for (const [addr, rule] of Object.entries(profile.precompiles ?? {})) {
    const b = rule?.behaviour
    if (!['supported', 'revert-refund', 'halt', 'absent', 'reject'].includes(b)) {
      return `precompile rule \`${b}\` for ${addr}`
    }
  }
  const cap = profile.limits?.modexp
  if (cap !== undefined && cap !== null && !['revert-refund', 'halt', 'reject'].includes(cap.behaviour)) {
    return `modexp cap behaviour \`${cap.behaviour}\``
  }
  for (const [addr, p] of Object.entries(profile.addedPrecompiles ?? {})) {
    if (!IMPLEMENTATIONS.includes(p?.implementation)) {
      return `added precompile \`${p?.implementation}\` at ${addr} is not implemented by this worker`
    }
  }
  return undefined
}

/** core/src/profile/behaviour.rs `keccak_chain_number`: keccak256 of the chain id and the
 *  requested number, 8 bytes big-endian each (saturated), for 1..=256 blocks back, else 0. */
export function keccakChainNumber(chainId, current, requested) {
  const diff = current - requested
  if (diff < 1n || diff > 256n) return 0n
  const cap = (1n << 64n) - 1n
  const data = new Uint8Array(16)
  const view = new DataView(data.buffer)
  view.setBigUint64(0, chainId < cap ? chainId : cap)
  view.setBigUint64(8, requested < cap ? requested : cap)
  let v = 0n
  for (const b of keccak_256(data)) v = (v << 8n) | BigInt(b)
  return v
}

function opName(op) {
  return `0x${op.toString(16).padStart(2, '0')}`
}

function customOpcodes(profile) {
  const out = []
  for (const [op, rule] of opcodeRules(profile)) {
    const name = `EVMDIFF_${opName(op)}`
    switch (rule.behaviour) {
      case 'constant': {
        const [inputs, gas] = constantShape(op)
        const value = BigInt(rule.value)
        out.push({
          opcode: op,
          opcodeName: name,
          baseFee: gas,
          logicFunction(runState) {
            for (let i = 0; i < inputs; i++) runState.stack.pop()
            runState.stack.push(value)
          },
        })
        break
      }
      case 'keccak-chain-number':
        out.push({
          opcode: op,
          opcodeName: name,
          baseFee: 20,
          logicFunction(runState) {
            const requested = runState.stack.pop()
            const current = runState.interpreter.getBlockNumber()
            const chainId = runState.interpreter.getChainId()
            runState.stack.push(keccakChainNumber(chainId, current, requested))
          },
        })
        break
      case 'invalid':
        out.push({
          opcode: op,
          opcodeName: name,
          baseFee: 0,
          logicFunction() {
            throw new EVMError(EVMError.errorMessages.INVALID_OPCODE)
          },
        })
        break
      case 'revert-refund':
        out.push({
          opcode: op,
          opcodeName: name,
          baseFee: 0,
          logicFunction(runState) {
            runState.interpreter.revert(new Uint8Array(0))
          },
        })
        break
      case 'reject':
        out.push({
          opcode: op,
          opcodeName: name,
          baseFee: 0,
          logicFunction() {
            throw new RejectError(`profile rejects opcode ${opName(op)}`)
          },
        })
        break
      default:
        break
    }
  }
  return out
}

/** True when one of modexp's three length words (zero-padded) exceeds `maxLen`. */
export function modexpExceeds(data, maxLen) {
  const limit = BigInt(maxLen)
  for (let i = 0; i < 3; i++) {
    const word = new Uint8Array(32)
    const start = Math.min(i * 32, data.length)
    const end = Math.min(start + 32, data.length)
    word.set(data.subarray(start, end))
    let v = 0n
    for (const b of word) v = (v << 8n) | BigInt(b)
    if (v > limit) return true
  }
  return false
}

function override(behaviour, why) {
  switch (behaviour) {
    case 'revert-refund':
      return () => {
        const e = new EVMError(EVMError.errorMessages.REVERT)
        e.evmdiffRevert = true
        e.evmdiffWhy = `${why}: revert-refund`
        return { returnValue: new Uint8Array(0), executionGasUsed: 0n, exceptionError: e }
      }
    case 'halt':
      return (opts) => {
        const e = new EVMError('precompile failure')
        e.evmdiffWhy = `${why}: halt`
        return { returnValue: new Uint8Array(0), executionGasUsed: opts.gasLimit, exceptionError: e }
      }
    case 'reject':
      return () => {
        throw new RejectError(`profile rejects the call to a precompile (${why})`)
      }
    default:
      return undefined
  }
}

function customPrecompiles(profile, common) {
  const active = getActivePrecompiles(common)
  const out = []
  const rules = new Map()
  for (const [addr, rule] of Object.entries(profile?.precompiles ?? {})) {
    const a = unprefixed(addr)
    // Only precompiles of the base fork: elsewhere the address is an ordinary account.
    if (!active.has(a) || rule.behaviour === 'supported') continue
    rules.set(a, rule.behaviour)
  }
  for (const [a, b] of rules) {
    if (b === 'absent') continue // removed in finishEvm
    out.push({ address: createAddressFromString('0x' + a), function: override(b, 'precompile rule') })
  }
  // Added precompiles (warm: runTx pre-warms the EVM's whole precompile map), in place of the
  // base fork's where it has one (the profile parser refuses a rule for the same address).
  for (const [addr, p] of Object.entries(profile?.addedPrecompiles ?? {})) {
    out.push({ address: createAddressFromString('0x' + unprefixed(addr)), function: added(p.implementation, p.gas) })
  }
  const cap = profile?.limits?.modexp
  if (cap !== undefined && cap !== null && active.has(MODEXP) && !rules.has(MODEXP)) {
    const original = active.get(MODEXP)
    const capped = override(cap.behaviour, 'modexp length cap')
    out.push({
      address: createAddressFromString('0x' + MODEXP),
      function: (opts) => (modexpExceeds(opts.data, cap.maxLen) ? capped(opts) : original(opts)),
    })
  }
  return out
}

/** Gas rules for opcodes: ethereumjs' own handler with the profile's figure as its base fee
 *  (the whole cost of the fixed-cost opcodes a gas rule may name; GAS then sees what is left
 *  after it). */
function repricedOpcodes(profile, common) {
  const rules = Object.entries(profile?.gas?.opcodes ?? {})
  if (rules.length === 0) return []
  // The EVM adds its parameters to Common when it is built; the opcode table needs them now.
  const withParams = common.copy()
  withParams.updateParams(paramsEVM)
  const { handlers } = getOpcodesForHF(withParams)
  return rules.map(([k, gas]) => {
    const op = Number(k)
    return { opcode: op, opcodeName: `EVMDIFF_GAS_${opName(op)}`, baseFee: Number(gas), logicFunction: handlers.get(op) }
  })
}

/** Gas rules for precompiles: out of gas below the figure; otherwise ethereumjs' own
 *  precompile with all the gas it wants, charged the figure when it succeeds. */
function repricedPrecompiles(profile, common) {
  const active = getActivePrecompiles(common)
  return Object.entries(profile?.gas?.precompiles ?? {}).map(([addr, gas]) => {
    const original = active.get(unprefixed(addr))
    const price = BigInt(gas)
    return {
      address: createAddressFromString('0x' + unprefixed(addr)),
      function: (opts) => {
        if (opts.gasLimit < price) {
          const e = new EVMError(EVMError.errorMessages.OUT_OF_GAS)
          return { returnValue: new Uint8Array(0), executionGasUsed: opts.gasLimit, exceptionError: e }
        }
        const out = original({ ...opts, gasLimit: 1n << 62n })
        if (out.exceptionError !== undefined) {
          return { returnValue: new Uint8Array(0), executionGasUsed: opts.gasLimit, exceptionError: out.exceptionError }
        }
        return { returnValue: out.returnValue, executionGasUsed: price }
      },
    }
  })
}

/** createEVM options applying `profile` (empty for mainnet). */
export function evmOptions(profile, common) {
  if (profile === null || profile === undefined) return {}
  const opts = {}
  const ops = [...customOpcodes(profile), ...repricedOpcodes(profile, common)]
  if (ops.length > 0) opts.customOpcodes = ops
  const pcs = [...customPrecompiles(profile, common), ...repricedPrecompiles(profile, common)]
  if (pcs.length > 0) opts.customPrecompiles = pcs
  return opts
}

/** Applies what createEVM options cannot express: `absent` precompiles leave the map. */
export function finishEvm(evm, profile) {
  if (profile === null || profile === undefined) return
  for (const [addr, rule] of Object.entries(profile.precompiles ?? {})) {
    if (rule.behaviour === 'absent') evm.precompiles.delete(unprefixed(addr))
  }
}
