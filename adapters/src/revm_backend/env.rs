//! Translating a [`Case`] into revm's inputs: spec, configuration, block, transaction and the
//! pre-state database.

use evmdiff_core::case::{BlockEnv as CaseBlock, Transaction};
use std::collections::BTreeMap;

use evmdiff_core::{Fork, State};
use revm::bytecode::Bytecode;
use revm::context::either::Either;
use revm::context::transaction::{AccessList, AccessListItem, Authorization, SignedAuthorization};
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::database::{AccountState, CacheDB, DbAccount, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{B256, KECCAK_EMPTY, TxKind, U256};
use revm::state::AccountInfo;

/// The database a case runs against: its pre-state, in memory, over an empty backing store.
///
/// The empty store answers `BLOCKHASH(n)` with `keccak256(decimal(n))`, which is what
/// ethereum/tests fillers use.
pub(crate) type Db = CacheDB<EmptyDB>;

/// revm's spec for a fork, or `None` for the one fork revm 43 cannot represent.
///
/// revm has no spec for the original Constantinople (with EIP-1283 net gas metering, withdrawn
/// before activation): its `SpecId` goes straight from `BYZANTIUM` to `PETERSBURG`, and revme
/// skips Constantinople fixtures for that reason. Mapping it to Petersburg would silently
/// price SSTORE differently from the fork asked for, so the caller reports it as unsupported.
pub(crate) fn spec_of(fork: Fork) -> Option<SpecId> {
    Some(match fork {
        Fork::Frontier => SpecId::FRONTIER,
        Fork::Homestead => SpecId::HOMESTEAD,
        Fork::Tangerine => SpecId::TANGERINE,
        Fork::SpuriousDragon => SpecId::SPURIOUS_DRAGON,
        Fork::Byzantium => SpecId::BYZANTIUM,
        Fork::Constantinople => return None,
        Fork::Petersburg => SpecId::PETERSBURG,
        Fork::Istanbul => SpecId::ISTANBUL,
        Fork::Berlin => SpecId::BERLIN,
        Fork::London => SpecId::LONDON,
        Fork::Paris => SpecId::MERGE,
        Fork::Shanghai => SpecId::SHANGHAI,
        Fork::Cancun => SpecId::CANCUN,
        Fork::Prague => SpecId::PRAGUE,
        Fork::Osaka => SpecId::OSAKA,
    })
}

/// Updates `cfg` for `spec` and the case's chain. The gas parameters are only recomputed when
/// the spec changes, since a reused EVM usually runs many cases of one fork in a row.
pub(crate) fn configure(cfg: &mut CfgEnv, spec: SpecId, chain_id: u64) {
    if cfg.spec != spec {
        cfg.set_spec_and_mainnet_gas_params(spec);
    }
    cfg.chain_id = chain_id;
    // Blobs per transaction, as revme configures them: 6 (EIP-4844), 9 from Prague (EIP-7691),
    // and 6 again from Osaka, where EIP-7594 caps a single transaction at 6 blobs.
    cfg.max_blobs_per_tx = Some(if spec.is_enabled_in(SpecId::OSAKA) {
        6
    } else if spec.is_enabled_in(SpecId::PRAGUE) {
        9
    } else {
        6
    });
}

/// The block environment. Numbers revm keeps as `u64` saturate.
///
/// Two defaults make any case runnable under a later fork than it was written for: a missing
/// PREVRANDAO is zero from Paris on (as revme does), and a missing excess blob gas is zero
/// from Cancun on (revme would refuse the header instead; no fixture lacks it).
pub(crate) fn block(env: &CaseBlock, cfg: &CfgEnv) -> BlockEnv {
    let spec = cfg.spec;
    let mut block = BlockEnv {
        number: env.number,
        beneficiary: env.coinbase,
        timestamp: env.timestamp,
        gas_limit: saturate_u64(env.gas_limit),
        basefee: env.base_fee.map(saturate_u64).unwrap_or_default(),
        difficulty: env.difficulty,
        prevrandao: env.random,
        ..BlockEnv::default()
    };
    if spec.is_enabled_in(SpecId::MERGE) && block.prevrandao.is_none() {
        block.prevrandao = Some(B256::ZERO);
    }
    let excess = match env.excess_blob_gas {
        Some(e) => Some(e),
        None if spec.is_enabled_in(SpecId::CANCUN) => Some(0),
        None => None,
    };
    if let Some(excess) = excess {
        block.set_blob_excess_gas_and_price(excess, cfg.blob_base_fee_update_fraction());
    }
    block
}

/// Why a transaction cannot even be handed to revm: a field outside what the transaction
/// encoding allows. Such a transaction is invalid, so the case is rejected.
pub(crate) fn invalid_tx(tx: &Transaction) -> Option<String> {
    let ty = tx.effective_type();
    if ty > 4 {
        return Some(format!("transaction type {ty} is not supported"));
    }
    if matches!(ty, 3 | 4) && tx.to.is_none() {
        return Some(format!("a type-{ty} transaction cannot create a contract"));
    }
    if u64::try_from(tx.nonce).is_err() {
        return Some(format!("nonce {} does not fit in 64 bits", tx.nonce));
    }
    for a in tx.authorization_list.iter().flatten() {
        if u64::try_from(a.nonce).is_err() || u8::try_from(a.v).is_err() {
            return Some("authorization nonce or y-parity out of range (EIP-7702)".into());
        }
    }
    None
}

/// The transaction environment. `invalid_tx` must have accepted `tx`.
///
/// Amounts revm keeps in narrower integers saturate (gas limit to `u64`, prices to `u128`),
/// so an absurd value still fails the balance or gas checks instead of wrapping. The chain id is
/// the block's, as the state-test format has no separate transaction chain id.
pub(crate) fn tx(t: &Transaction, chain_id: u64) -> TxEnv {
    let u128_of = |v: U256| u128::try_from(v).unwrap_or(u128::MAX);
    TxEnv {
        tx_type: t.effective_type(),
        caller: t.sender,
        gas_limit: saturate_u64(t.gas_limit),
        gas_price: t
            .gas_price
            .or(t.max_fee_per_gas)
            .map(u128_of)
            .unwrap_or_default(),
        kind: t.to.map_or(TxKind::Create, TxKind::Call),
        value: t.value,
        data: t.data.clone(),
        nonce: saturate_u64(t.nonce),
        chain_id: Some(chain_id),
        access_list: AccessList(
            t.access_list
                .iter()
                .flatten()
                .map(|i| AccessListItem {
                    address: i.address,
                    storage_keys: i.storage_keys.clone(),
                })
                .collect(),
        ),
        gas_priority_fee: t.max_priority_fee_per_gas.map(u128_of),
        blob_hashes: t.blob_versioned_hashes.clone().unwrap_or_default(),
        max_fee_per_blob_gas: t.max_fee_per_blob_gas.map(u128_of).unwrap_or(u128::MAX),
        authorization_list: t
            .authorization_list
            .iter()
            .flatten()
            .map(|a| {
                let inner = Authorization {
                    chain_id: a.chain_id,
                    address: a.address,
                    nonce: saturate_u64(a.nonce),
                };
                Either::Left(SignedAuthorization::new_unchecked(
                    inner,
                    a.v.saturating_to(),
                    a.r,
                    a.s,
                ))
            })
            .collect(),
    }
}

/// The pre-state as a revm database, answering `BLOCKHASH` from `hashes` (a chain's headers)
/// where they have the number, and by the fillers' convention elsewhere.
///
/// Code is analysed once here. A code that starts like an EIP-7702 delegation (`0xef01`) but is
/// malformed cannot be built by `Bytecode::new_raw` (it panics); it is kept as legacy code, which
/// halts on its first byte like any other code starting with 0xEF.
pub(crate) fn database(pre: &State, hashes: &BTreeMap<u64, B256>) -> Db {
    let mut db = Db::default();
    db.cache
        .block_hashes
        .extend(hashes.iter().map(|(n, h)| (U256::from(*n), *h)));
    for (addr, acc) in pre {
        let info = if acc.code.is_empty() {
            AccountInfo {
                balance: acc.balance,
                nonce: acc.nonce,
                code_hash: KECCAK_EMPTY,
                ..AccountInfo::default()
            }
        } else {
            let code = Bytecode::new_raw_checked(acc.code.clone())
                .unwrap_or_else(|_| Bytecode::new_legacy(acc.code.clone()));
            AccountInfo {
                balance: acc.balance,
                nonce: acc.nonce,
                ..AccountInfo::default()
            }
            .with_code(code)
        };
        if let Some(code) = &info.code
            && !code.is_empty()
        {
            db.cache.contracts.insert(info.code_hash, code.clone());
        }
        let storage = acc.storage.iter().map(|(k, v)| (*k, *v)).collect();
        db.cache.accounts.insert(
            *addr,
            DbAccount {
                info,
                account_state: AccountState::None,
                storage,
            },
        );
    }
    db
}

/// `v` as a `u64`, saturating.
pub(crate) fn saturate_u64(v: U256) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}
