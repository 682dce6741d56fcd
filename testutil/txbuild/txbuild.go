// Package txbuild builds Cosmos SDK transactions from their parts (body,
// auth info, SIGN_MODE_DIRECT signatures) so that tests and load generators
// can sign without a keyring or a node, and corrupt any part on purpose.
package txbuild

import (
	"fmt"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	signingtypes "github.com/cosmos/cosmos-sdk/types/tx/signing"
)

// Signer is a key with the account number and sequence it signs with.
type Signer struct {
	Key           cryptotypes.PrivKey
	AccountNumber uint64
	Sequence      uint64
}

// Options are the transaction's envelope.
type Options struct {
	ChainID       string
	Gas           uint64
	Fee           sdk.Coins
	Memo          string
	TimeoutHeight uint64
}

// Parts are a transaction before encoding.
type Parts struct {
	Body      *txtypes.TxBody
	AuthInfo  *txtypes.AuthInfo
	BodyBytes []byte
	AuthBytes []byte
	Sigs      [][]byte
}

// Build returns msgs signed by signers (the first pays the fee).
func Build(msgs []sdk.Msg, signers []Signer, opts Options) (*Parts, error) {
	p := &Parts{Body: &txtypes.TxBody{Memo: opts.Memo, TimeoutHeight: opts.TimeoutHeight}, AuthInfo: &txtypes.AuthInfo{
		Fee: &txtypes.Fee{Amount: opts.Fee, GasLimit: opts.Gas},
	}}
	for _, m := range msgs {
		anyMsg, err := codectypes.NewAnyWithValue(m)
		if err != nil {
			return nil, fmt.Errorf("packing %T: %w", m, err)
		}
		p.Body.Messages = append(p.Body.Messages, anyMsg)
	}
	for _, s := range signers {
		pk, err := codectypes.NewAnyWithValue(s.Key.PubKey())
		if err != nil {
			return nil, err
		}
		p.AuthInfo.SignerInfos = append(p.AuthInfo.SignerInfos, &txtypes.SignerInfo{
			PublicKey: pk, Sequence: s.Sequence,
			ModeInfo: &txtypes.ModeInfo{Sum: &txtypes.ModeInfo_Single_{Single: &txtypes.ModeInfo_Single{Mode: signingtypes.SignMode_SIGN_MODE_DIRECT}}},
		})
	}
	var err error
	if p.BodyBytes, err = p.Body.Marshal(); err != nil {
		return nil, err
	}
	if p.AuthBytes, err = p.AuthInfo.Marshal(); err != nil {
		return nil, err
	}
	for _, s := range signers {
		sig, err := SignDirect(s.Key, p.BodyBytes, p.AuthBytes, opts.ChainID, s.AccountNumber)
		if err != nil {
			return nil, err
		}
		p.Sigs = append(p.Sigs, sig)
	}
	return p, nil
}

// SignDirect signs body and auth info bytes in SIGN_MODE_DIRECT.
func SignDirect(key cryptotypes.PrivKey, body, authInfo []byte, chainID string, accountNumber uint64) ([]byte, error) {
	doc := txtypes.SignDoc{BodyBytes: body, AuthInfoBytes: authInfo, ChainId: chainID, AccountNumber: accountNumber}
	bz, err := doc.Marshal()
	if err != nil {
		return nil, err
	}
	return key.Sign(bz)
}

// Encode returns the transaction's bytes.
func (p *Parts) Encode() []byte {
	bz, err := (&txtypes.TxRaw{BodyBytes: p.BodyBytes, AuthInfoBytes: p.AuthBytes, Signatures: p.Sigs}).Marshal()
	if err != nil {
		panic(err) // TxRaw of byte slices always marshals
	}
	return bz
}
