package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of x/rewards. Its module account is the custodian
	// of every task escrow, worker bond and challenger bond.
	ModuleName = "rewards"
	// StoreKey is the store key of x/rewards.
	StoreKey = ModuleName
	// PoolAccount is the module account that funds per-epoch compute emissions.
	// It is filled by MsgFundPool (or by governance spends) and never minted.
	PoolAccount = "compute_pool"
)

// Store prefixes; each is used once and never reused.
var (
	ParamsKey         = collections.NewPrefix(0)
	EscrowsKey        = collections.NewPrefix(1)
	WorkerBondsKey    = collections.NewPrefix(2)
	ChallengeBondsKey = collections.NewPrefix(3)
	ReputationsKey    = collections.NewPrefix(4)
	LeaderboardKey    = collections.NewPrefix(5)
	EpochWorkKey      = collections.NewPrefix(6)
	FundersKey        = collections.NewPrefix(7)
	// EpochWorkersKey counts the distinct workers in EpochWork, so that
	// PayWorker can enforce max_emission_recipients without walking the map.
	EpochWorkersKey = collections.NewPrefix(8)
	// JobEscrows and Stakes: x/annotation's job escrows and annotator stakes.
	JobEscrowsKey = collections.NewPrefix(9)
	StakesKey     = collections.NewPrefix(10)
)

// BasisPoints is the denominator of every *_bps parameter.
const BasisPoints = 10_000
