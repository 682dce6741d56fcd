package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"time"

	"cosmossdk.io/core/address"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	"github.com/cosmos/cosmos-sdk/testutil/sims"
	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/cosmos-sdk/x/simulation"
)

// operations builds the weighted operations of every module of a's
// simulation manager as simsx's runner does (the modules' WeightedOperationsX
// and ProposalMsgsX factories), except that each simulated transaction is
// delivered here so that its events reach a's Checker: the SDK's runner
// drops them, and a transaction may burn coins (a forged reveal slashes a
// bond; a cancelled governance proposal burns its deposit).
func operations(a *SimApp, reporter *simsx.BasicSimulationReporter, exclude map[string]string) (simulation.WeightedOperations, error) {
	params := make(simtypes.AppParams)
	for name := range exclude {
		params["op_weight_"+name] = json.RawMessage("0")
	}
	weights := simsx.ParamWeightSource(params)
	d := &deliverer{
		reporter: reporter, ak: a.AccountKeeper, bk: a.BankKeeper, txConfig: a.TxConfig(),
		addressCodec: a.TxConfig().SigningContext().AddressCodec(), checker: a.Checker,
	}
	proposals := simsx.NewUniqueTypeRegistry()
	for _, m := range a.SimulationManager().Modules {
		if xm, ok := m.(simsx.HasProposalMsgsX); ok {
			xm.ProposalMsgsX(weights, proposals)
		}
	}
	reg := &registry{d: d}
	for _, m := range a.SimulationManager().Modules {
		switch xm := m.(type) {
		case simsx.HasWeightedOperationsX:
			xm.WeightedOperationsX(weights, reg)
		case simsx.HasWeightedOperationsXWithProposals:
			xm.WeightedOperationsX(weights, reg, proposals.Iterator(), nil)
		case simsx.HasLegacyWeightedOperations:
			// Legacy operations deliver their own transactions, out of the
			// Checker's sight; none of the app's modules may have any.
			if ops := xm.WeightedOperations(module.SimulationState{}); len(ops) > 0 {
				return nil, fmt.Errorf("module %T has %d legacy operations; give it simsx factories", m, len(ops))
			}
		}
	}
	return reg.ops, nil
}

// Excluded are the SDK factories the simulation leaves out, and why. None
// today: the legacy text proposal, left out while x/gov had no legacy router
// (tests/badinput TestLegacyTextProposal), runs again. (gov submits a
// module's proposal at weight/25: the Hinterland modules register theirs at
// 50.)
var Excluded = map[string]string{}

// AfterZeroHeight are the factories left out of a run that starts from a
// zero-height export, and why.
var AfterZeroHeight = map[string]string{
	// The zero-height export (app/export.go, as the SDK's simapp) resets
	// unbonding entries' creation height to 0, and MsgCancelUnbondingDelegation
	// requires a positive one: entries from before the export cannot be
	// cancelled, and the SDK's factory picks them.
	"msg_cancel_unbonding_delegation": "unbonding entries have creation height 0 after a zero-height export",
}

// deliverer signs and delivers a factory's message like simsx's
// DeliverSimsMsg and passes the transaction's events to the Checker.
type deliverer struct {
	reporter     *simsx.BasicSimulationReporter
	ak           simsx.AccountSourceX
	bk           simsx.BalanceSource
	txConfig     client.TxConfig
	addressCodec address.Codec
	checker      *Checker
}

// registry collects the factories as weighted operations (simsx.Registry).
type registry struct {
	d   *deliverer
	ops simulation.WeightedOperations
}

func (g *registry) Add(weight uint32, f simsx.SimMsgFactoryX) {
	if weight == 0 {
		return
	}
	g.ops = append(g.ops, simulation.NewWeightedOperation(int(weight), g.d.operation(f)))
}

// futureOps collects the operations a factory schedules for later blocks
// (governance votes; simsx.FutureOpsRegistry).
type futureOps struct {
	d     *deliverer
	items []simtypes.FutureOperation
}

func (f *futureOps) Add(blockTime time.Time, fx simsx.SimMsgFactoryX) {
	if blockTime.IsZero() {
		return
	}
	f.items = append(f.items, simtypes.FutureOperation{BlockTime: blockTime, Op: f.d.operation(fx)})
}

// operation runs the factory and delivers its message (simsx's
// legacyOperationAdapter, with this package's delivery).
func (d *deliverer) operation(fx simsx.SimMsgFactoryX) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, chainID string) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		xCtx, done := context.WithCancel(ctx)
		defer done()
		ctx = sdk.UnwrapSDKContext(xCtx)
		testData := simsx.NewChainDataSource(ctx, r, d.ak, d.bk, d.addressCodec, accs...)
		reporter := d.reporter.WithScope(fx.MsgType(), simsx.SkipHookFn(func(...any) { done() }))
		future := &futureOps{d: d}
		if f, ok := fx.(simsx.HasFutureOpsRegistry); ok {
			f.SetFutureOpsRegistry(future)
		}
		from, msg := simsx.SafeRunFactoryMethod(ctx, testData, reporter, fx.Create())
		res := d.deliver(ctx, reporter, app, r, chainID, msg, fx.DeliveryResultHandler(), from...)
		return res, future.items, reporter.Close()
	}
}

func (d *deliverer) deliver(ctx sdk.Context, reporter simsx.SimulationReporter, app *baseapp.BaseApp, r *rand.Rand,
	chainID string, msg sdk.Msg, handle simsx.SimDeliveryResultHandler, senders ...simsx.SimAccount,
) simtypes.OperationMsg {
	if reporter.IsSkipped() {
		return reporter.ToLegacyOperationMsg()
	}
	if len(senders) == 0 {
		reporter.Fail(errors.New("no senders"), "encoding TX")
		return reporter.ToLegacyOperationMsg()
	}
	accNums := make([]uint64, len(senders))
	seqs := make([]uint64, len(senders))
	keys := make([]cryptotypes.PrivKey, len(senders))
	for i, s := range senders {
		acc := d.ak.GetAccount(ctx, s.Address)
		accNums[i], seqs[i], keys[i] = acc.GetAccountNumber(), acc.GetSequence(), s.PrivKey
	}
	fees := senders[0].LiquidBalance().RandFees()
	tx, err := sims.GenSignedMockTx(r, d.txConfig, []sdk.Msg{msg}, fees, sims.DefaultGenTxGas, chainID, accNums, seqs, keys...)
	if err != nil {
		reporter.Fail(err, "encoding TX")
		return reporter.ToLegacyOperationMsg()
	}
	_, res, err := app.SimDeliver(d.txConfig.TxEncoder(), tx)
	if err == nil {
		d.checker.TxEvents(res.Events)
	}
	if err := handle(err); err != nil {
		reporter.Fail(err, fmt.Sprintf("delivering tx with msg %T: %v", msg, msg))
		return reporter.ToLegacyOperationMsg()
	}
	reporter.Success(msg)
	return reporter.ToLegacyOperationMsg()
}
