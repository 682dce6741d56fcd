// Package apptest drives the real Hinterland app in process, the way
// CometBFT does: app.New on an in-memory database, InitChain from a genesis
// with one validator and funded accounts, then CheckTx, FinalizeBlock and
// Commit with raw transaction bytes. Transactions are built from their parts
// (body, auth info, signatures) so tests can corrupt any of them.
package apptest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"
	dbm "github.com/cosmos/cosmos-db"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/hinterland-ai/hinterland/app"
	"github.com/hinterland-ai/hinterland/testutil/txbuild"
)

// Options configure a chain. Zero values take the defaults.
type Options struct {
	ChainID string // default "hinterland-apptest-1"
	// Accounts is how many funded user accounts to create (default 6), each
	// with Balance uhint (default 10^12).
	Accounts int
	Balance  int64
	// MinGasPrices is the node's CheckTx minimum (default app.DefaultMinGasPrices).
	MinGasPrices string
	// BlockTime is how far each block's time moves (default 5 s).
	BlockTime time.Duration
	// Genesis edits the app state before InitChain (module params, ...).
	Genesis func(state map[string]json.RawMessage)
}

// Account is a funded user key.
type Account struct {
	Key  *secp256k1.PrivKey
	Addr sdk.AccAddress
	// Seq is the next sequence Tx signs with; a delivered or checked
	// transaction that passed the ante handler increments it (Tx does).
	Seq uint64
}

// Chain is the app and where it is.
type Chain struct {
	t       testing.TB
	App     *app.App
	ChainID string
	// Accounts are the funded users; Accounts[0] also delegated the
	// validator's stake.
	Accounts  []*Account
	Time      time.Time
	BlockTime time.Duration
	// GasPrice is what Tx pays per unit of gas (the node's minimum).
	GasPrice sdk.DecCoin
	proposer []byte
}

// Genesis is the chain's genesis time.
var Genesis = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// New builds the app, runs InitChain and commits the first block.
func New(t testing.TB, opts Options) *Chain {
	t.Helper()
	if opts.ChainID == "" {
		opts.ChainID = "hinterland-apptest-1"
	}
	if opts.Accounts == 0 {
		opts.Accounts = 6
	}
	if opts.Balance == 0 {
		opts.Balance = 1_000_000_000_000
	}
	if opts.MinGasPrices == "" {
		opts.MinGasPrices = app.DefaultMinGasPrices
	}
	if opts.BlockTime == 0 {
		opts.BlockTime = 5 * time.Second
	}
	prices, err := sdk.ParseDecCoins(opts.MinGasPrices)
	require.NoError(t, err)
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), true, simtestutil.EmptyAppOptions{},
		baseapp.SetChainID(opts.ChainID), baseapp.SetMinGasPrices(opts.MinGasPrices))
	c := &Chain{t: t, App: a, ChainID: opts.ChainID, Time: Genesis, BlockTime: opts.BlockTime, GasPrice: prices[0]}

	// A deterministic validator and deterministic accounts: two chains built
	// with the same options are the same chain.
	valKey := ed25519.GenPrivKeyFromSecret([]byte(opts.ChainID + "/validator"))
	val := cmttypes.NewValidator(valKey.PubKey(), 1)
	c.proposer = val.Address
	valSet := cmttypes.NewValidatorSet([]*cmttypes.Validator{val})
	var (
		genAccs  []authtypes.GenesisAccount
		balances []banktypes.Balance
	)
	for i := range opts.Accounts {
		seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(opts.ChainID+"/account/"), uint64(i)))
		key := secp256k1.GenPrivKeyFromSecret(seed[:])
		acc := &Account{Key: key, Addr: sdk.AccAddress(key.PubKey().Address())}
		c.Accounts = append(c.Accounts, acc)
		genAccs = append(genAccs, authtypes.NewBaseAccount(acc.Addr, nil, uint64(i), 0))
		balances = append(balances, banktypes.Balance{Address: acc.Addr.String(),
			Coins: sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(opts.Balance)))})
	}
	state, err := simtestutil.GenesisStateWithValSet(a.AppCodec(), a.DefaultGenesis(), valSet, genAccs, balances...)
	require.NoError(t, err)
	if opts.Genesis != nil {
		opts.Genesis(state)
	}
	stateBytes, err := json.Marshal(state)
	require.NoError(t, err)
	_, err = a.InitChain(&abci.RequestInitChain{
		ChainId: opts.ChainID, AppStateBytes: stateBytes, Time: Genesis, InitialHeight: 1,
		ConsensusParams: &cmtproto.ConsensusParams{
			Block:     &cmtproto.BlockParams{MaxBytes: app.GenesisMaxBlockBytes, MaxGas: app.GenesisMaxBlockGas},
			Evidence:  &cmtproto.EvidenceParams{MaxAgeNumBlocks: 302400, MaxAgeDuration: 504 * time.Hour, MaxBytes: 10000},
			Validator: &cmtproto.ValidatorParams{PubKeyTypes: []string{cmttypes.ABCIPubKeyTypeEd25519}},
		},
	})
	require.NoError(t, err)
	c.NextBlock()
	return c
}

// Height is the last committed height.
func (c *Chain) Height() int64 { return c.App.LastBlockHeight() }

// AppHash is the last committed app hash.
func (c *Chain) AppHash() []byte { return c.App.LastCommitID().Hash }

// Ctx is a read-only context on the last committed state.
func (c *Chain) Ctx() sdk.Context {
	return c.App.NewUncachedContext(false, cmtproto.Header{Height: c.Height(), Time: c.Time, ChainID: c.ChainID}).
		WithBlockTime(c.Time)
}

// CheckTx runs a transaction through CheckTx, as the mempool does.
func (c *Chain) CheckTx(tx []byte) *abci.ResponseCheckTx {
	c.t.Helper()
	res, err := c.App.CheckTx(&abci.RequestCheckTx{Tx: tx, Type: abci.CheckTxType_New})
	require.NoError(c.t, err)
	return res
}

// NextBlock finalizes and commits a block holding txs at the next height,
// BlockTime after the last one.
func (c *Chain) NextBlock(txs ...[]byte) *abci.ResponseFinalizeBlock {
	c.t.Helper()
	res, err := c.finalize(txs)
	require.NoError(c.t, err)
	_, err = c.App.Commit()
	require.NoError(c.t, err)
	return res
}

func (c *Chain) finalize(txs [][]byte) (*abci.ResponseFinalizeBlock, error) {
	height := c.Height() + 1
	if height > 1 {
		c.Time = c.Time.Add(c.BlockTime)
	}
	hash := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(c.ChainID+"/block/"), uint64(height)))
	return c.App.FinalizeBlock(&abci.RequestFinalizeBlock{
		Height: height, Time: c.Time, Txs: txs, Hash: hash[:], ProposerAddress: c.proposer,
	})
}

// TxOptions change how Tx builds a transaction; zero values take defaults.
type TxOptions struct {
	Gas           uint64    // default 2 000 000
	Fee           sdk.Coins // default Gas * GasPrice
	NoFee         bool
	Memo          string
	TimeoutHeight uint64
	ChainID       string  // sign for another chain
	Sequence      *uint64 // sign with this sequence instead of the account's
	Signers       []*Account
}

// Parts are a transaction before encoding: what tests corrupt.
type Parts = txbuild.Parts

// Build returns the parts of a transaction of msgs signed by from (and
// opts.Signers after it) in SIGN_MODE_DIRECT.
func (c *Chain) Build(from *Account, msgs []sdk.Msg, opts TxOptions) *Parts {
	c.t.Helper()
	if opts.Gas == 0 {
		opts.Gas = 2_000_000
	}
	if opts.Fee == nil && !opts.NoFee {
		amt := c.GasPrice.Amount.MulInt64(int64(opts.Gas)).Ceil().TruncateInt()
		opts.Fee = sdk.NewCoins(sdk.NewCoin(c.GasPrice.Denom, amt))
	}
	chainID := c.ChainID
	if opts.ChainID != "" {
		chainID = opts.ChainID
	}
	var signers []txbuild.Signer
	for _, s := range append([]*Account{from}, opts.Signers...) {
		seq := s.Seq
		if opts.Sequence != nil {
			seq = *opts.Sequence
		}
		signers = append(signers, txbuild.Signer{Key: s.Key, AccountNumber: c.AccountNumber(s), Sequence: seq})
	}
	p, err := txbuild.Build(msgs, signers, txbuild.Options{ChainID: chainID, Gas: opts.Gas, Fee: opts.Fee,
		Memo: opts.Memo, TimeoutHeight: opts.TimeoutHeight})
	require.NoError(c.t, err)
	return p
}

// Sign signs body and auth info bytes as s (SIGN_MODE_DIRECT) for chainID.
func (c *Chain) Sign(s *Account, body, authInfo []byte, chainID string) []byte {
	c.t.Helper()
	sig, err := txbuild.SignDirect(s.Key, body, authInfo, chainID, c.AccountNumber(s))
	require.NoError(c.t, err)
	return sig
}

// Tx returns a signed transaction of msgs from `from`, and advances from's
// sequence for the next one.
func (c *Chain) Tx(from *Account, opts TxOptions, msgs ...sdk.Msg) []byte {
	c.t.Helper()
	bz := c.Build(from, msgs, opts).Encode()
	if opts.Sequence == nil {
		from.Seq++
	}
	return bz
}

// AccountNumber is a's account number on the chain.
func (c *Chain) AccountNumber(a *Account) uint64 {
	acc := c.App.AccountKeeper.GetAccount(c.Ctx(), a.Addr)
	if acc == nil {
		return 0
	}
	return acc.GetAccountNumber()
}

// Deliver puts txs in the next block and returns their results, requiring
// every one to succeed.
func (c *Chain) Deliver(txs ...[]byte) []*abci.ExecTxResult {
	c.t.Helper()
	res := c.NextBlock(txs...)
	for i, r := range res.TxResults {
		require.Zerof(c.t, r.Code, "tx %d: %s (codespace %s, code %d)", i, r.Log, r.Codespace, r.Code)
	}
	return res.TxResults
}

// Describe renders a CheckTx or block result for test messages.
func Describe(r interface {
	GetCode() uint32
	GetCodespace() string
	GetLog() string
},
) string {
	return fmt.Sprintf("codespace %q code %d: %s", r.GetCodespace(), r.GetCode(), r.GetLog())
}
