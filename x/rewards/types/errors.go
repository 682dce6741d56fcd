package types

import "cosmossdk.io/errors"

// x/rewards errors. Codes are never reused.
var (
	ErrInvalidParams     = errors.Register(ModuleName, 2, "invalid rewards params")
	ErrInvalidGenesis    = errors.Register(ModuleName, 3, "invalid rewards genesis")
	ErrEscrowNotFound    = errors.Register(ModuleName, 4, "no escrow for this task")
	ErrEscrowExists      = errors.Register(ModuleName, 5, "task already has an escrow")
	ErrBondNotFound      = errors.Register(ModuleName, 6, "no bond held for this worker and task")
	ErrBondExists        = errors.Register(ModuleName, 7, "a bond is already held for this worker and task")
	ErrInvalidAmount     = errors.Register(ModuleName, 8, "invalid amount")
	ErrInsufficientFunds = errors.Register(ModuleName, 9, "insufficient funds")
	ErrAccounting        = errors.Register(ModuleName, 10, "custody accounting mismatch")
	ErrInvalidAddress    = errors.Register(ModuleName, 11, "invalid address")
)
