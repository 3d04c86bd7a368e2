//! An Invoker around evm's standard one that reports what a transaction did.
//!
//! evm's own `finalize_transact` returns only `Err(e)` on a revert or a halt: no revert data,
//! no gas used, no refund. This wrapper delegates everything else to the standard invoker and
//! does the finalization itself, exactly as the standard one does it (deploy the code of a
//! CREATE transaction, commit or discard the top frame, refund the caller, pay the coinbase),
//! recording the outcome on the way. It always returns `Ok`; an `Err` from `evm::transact`
//! then means evm refused the transaction before running it.

use evm::backend::TransactionalBackend;
use evm::interpreter::runtime::{RuntimeBackend, RuntimeEnvironment, SetCodeOrigin};
use evm::interpreter::{Capture, ExitError, ExitFatal, ExitSucceed, Interpreter};
use evm::standard::{InvokerState, State, TransactInvoke, routines};
use evm::uint::U256Ext;
use evm::{Invoker as InvokerT, InvokerControl, InvokerExit, MergeStrategy};

/// How the top frame ended.
#[derive(Debug)]
pub(super) enum End {
    /// Returned or stopped; `output` is the return data, or the deployed code of a CREATE.
    Success { how: ExitSucceed, output: Vec<u8> },
    /// Reverted with `output`.
    Revert { output: Vec<u8> },
    /// Exceptional halt. `deploy` is true when the frame succeeded but its code could not be
    /// deployed (size limit, 0xEF prefix, code deposit out of gas).
    Halt { error: ExitError, deploy: bool },
}

/// What a finished transaction did.
#[derive(Debug)]
pub(super) struct Finished {
    /// How the top frame ended.
    pub(super) end: End,
    /// Gas charged to the sender, after refund.
    pub(super) gas_used: u64,
    /// Refund applied.
    pub(super) refund: u64,
}

/// The standard invoker `I`, with the finalization above.
pub(super) struct TxInvoker<I>(pub(super) I);

impl<'config, H, I> InvokerT<H> for TxInvoker<I>
where
    H: RuntimeEnvironment + RuntimeBackend + TransactionalBackend,
    I: InvokerT<H, State = State<'config>, TransactInvoke = TransactInvoke<'config>>,
{
    type State = State<'config>;
    type Interpreter = I::Interpreter;
    type Interrupt = I::Interrupt;
    type TransactArgs = I::TransactArgs;
    type TransactInvoke = TransactInvoke<'config>;
    type TransactValue = Finished;
    type SubstackInvoke = I::SubstackInvoke;

    fn new_transact(
        &self,
        args: Self::TransactArgs,
        handler: &mut H,
    ) -> Result<
        (
            Self::TransactInvoke,
            InvokerControl<Self::Interpreter, Self::State>,
        ),
        ExitError,
    > {
        self.0.new_transact(args, handler)
    }

    fn finalize_transact(
        &self,
        invoke: &Self::TransactInvoke,
        exit: InvokerExit<Self::State>,
        handler: &mut H,
    ) -> Result<Finished, ExitError> {
        let InvokerExit {
            result,
            substate,
            retval,
        } = exit;
        // The gas limit was checked to fit 64 bits before the transaction started.
        let limit = invoke.gas_limit.low_u64();
        let no_empty_contract = invoke.config.eip2_no_empty_contract;
        let (end, left, refund) = match (result, substate) {
            (Ok(how), Some(mut s)) => {
                let end = match invoke.create_address {
                    None => End::Success {
                        how,
                        output: retval,
                    },
                    Some(address) => {
                        match routines::deploy_create_code(
                            address,
                            retval.clone(),
                            &mut s,
                            handler,
                            SetCodeOrigin::Transaction,
                        ) {
                            Ok(()) => End::Success {
                                how,
                                output: retval,
                            },
                            Err(error) if no_empty_contract => End::Halt {
                                error,
                                deploy: true,
                            },
                            // Frontier: code that cannot be paid for is not deployed, and the
                            // creation still succeeds with an empty contract.
                            Err(_) => End::Success {
                                how,
                                output: Vec::new(),
                            },
                        }
                    }
                };
                match end {
                    End::Success { .. } => {
                        let with_refund = s.effective_gas(true).low_u64();
                        let without = s.effective_gas(false).low_u64();
                        (end, with_refund, with_refund - without)
                    }
                    _ => (end, 0, 0),
                }
            }
            (Ok(_), None) => (
                End::Halt {
                    error: ExitFatal::Unfinished.into(),
                    deploy: false,
                },
                0,
                0,
            ),
            (Err(ExitError::Reverted), s) => {
                let left = s.map_or(0, |s| s.effective_gas(false).low_u64());
                (End::Revert { output: retval }, left, 0)
            }
            (Err(error), _) => (
                End::Halt {
                    error,
                    deploy: false,
                },
                0,
                0,
            ),
        };

        let strategy = if matches!(end, End::Success { .. }) {
            MergeStrategy::Commit
        } else {
            MergeStrategy::Discard
        };
        handler.pop_substate(strategy)?;

        let left = evm::uint::U256::from_u64(left);
        let used = invoke.gas_limit.saturating_sub(left);
        let refunded_fee = invoke.gas_price.refunded_fee(left, invoke.config, handler);
        handler.deposit(invoke.caller, refunded_fee);
        let reward = invoke
            .gas_price
            .coinbase_reward(used, invoke.config, handler);
        handler.deposit(handler.block_coinbase(), reward);

        Ok(Finished {
            end,
            gas_used: limit - left.low_u64(),
            refund,
        })
    }

    #[allow(clippy::type_complexity)]
    fn enter_substack(
        &self,
        trap: <Self::Interpreter as Interpreter<H>>::Trap,
        machine: &mut Self::Interpreter,
        handler: &mut H,
        depth: usize,
    ) -> Capture<
        Result<
            (
                Self::SubstackInvoke,
                InvokerControl<Self::Interpreter, Self::State>,
            ),
            ExitError,
        >,
        Self::Interrupt,
    > {
        self.0.enter_substack(trap, machine, handler, depth)
    }

    fn exit_substack(
        &self,
        trap_data: Self::SubstackInvoke,
        exit: InvokerExit<Self::State>,
        parent: &mut Self::Interpreter,
        handler: &mut H,
    ) -> Result<(), ExitError> {
        self.0.exit_substack(trap_data, exit, parent, handler)
    }
}
