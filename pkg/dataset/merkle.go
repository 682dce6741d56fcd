package dataset

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/cometbft/cometbft/crypto/merkle"
	"github.com/cometbft/cometbft/crypto/tmhash"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
)

// The dataset commitment is CometBFT's RFC 6962 style Merkle tree
// (crypto/merkle) over the canonical row encodings, in row order:
// leaf = SHA-256(0x00 || row), inner = SHA-256(0x01 || left || right).

// RootSize is the byte length of a Merkle root.
const RootSize = tmhash.Size

// MaxRows bounds the rows of a dataset (so that indices fit the int64 fields
// of merkle.Proof with room to spare).
const MaxRows = 1 << 40

// Root returns the Merkle root of the encoded rows.
func Root(rows [][]byte) []byte { return merkle.HashFromByteSlices(rows) }

// Proofs returns the root and the inclusion proof of every row.
func Proofs(rows [][]byte) ([]byte, []*merkle.Proof) { return merkle.ProofsFromByteSlices(rows) }

// proofDepth returns the number of aunts of leaf index in a CometBFT tree of
// total leaves (the split point is the largest power of two < total).
func proofDepth(index, total uint64) int {
	d := 0
	for total > 1 {
		k := uint64(1) << (bits.Len64(total-1) - 1)
		if index < k {
			total = k
		} else {
			index -= k
			total -= k
		}
		d++
	}
	return d
}

// VerifyRow checks that rowBytes is row `index` of a dataset of `total` rows
// whose Merkle root is root. It is safe on hostile input: the proof's Total
// and Index must equal total and index, the leaf hash and every aunt must be
// 32 bytes, and the number of aunts must be exactly the depth of that leaf,
// all before any hashing.
func VerifyRow(root []byte, total, index uint64, rowBytes []byte, proof *merkle.Proof) error {
	if proof == nil {
		return errors.New("row proof: missing")
	}
	if len(root) != RootSize {
		return fmt.Errorf("row proof: root has %d bytes, want %d", len(root), RootSize)
	}
	if total == 0 || total > MaxRows {
		return fmt.Errorf("row proof: total %d out of range [1, %d]", total, uint64(MaxRows))
	}
	if index >= total {
		return fmt.Errorf("row proof: index %d out of range [0, %d)", index, total)
	}
	if proof.Total != int64(total) || proof.Index != int64(index) {
		return fmt.Errorf("row proof: proof is for row %d of %d, want row %d of %d", proof.Index, proof.Total, index, total)
	}
	if len(proof.LeafHash) != RootSize {
		return fmt.Errorf("row proof: leaf hash has %d bytes, want %d", len(proof.LeafHash), RootSize)
	}
	if want := proofDepth(index, total); len(proof.Aunts) != want {
		return fmt.Errorf("row proof: %d aunts, a row %d of %d needs %d", len(proof.Aunts), index, total, want)
	}
	for i, a := range proof.Aunts {
		if len(a) != RootSize {
			return fmt.Errorf("row proof: aunt %d has %d bytes, want %d", i, len(a), RootSize)
		}
	}
	if err := proof.Verify(root, rowBytes); err != nil {
		return fmt.Errorf("row proof: %w", err)
	}
	return nil
}

// ProofToProto converts a proof to CometBFT's wire type tendermint.crypto.Proof
// (github.com/cometbft/cometbft/proto/tendermint/crypto in v0.39).
func ProofToProto(p *merkle.Proof) *cmtcrypto.Proof { return p.ToProto() }

// ProofFromProto converts CometBFT's wire type back, checking sizes
// (merkle.Proof.ValidateBasic).
func ProofFromProto(pb *cmtcrypto.Proof) (*merkle.Proof, error) {
	p, err := merkle.ProofFromProto(pb)
	if err != nil {
		return nil, fmt.Errorf("row proof: %w", err)
	}
	return p, nil
}

// VerifyRowProto is VerifyRow for a proof in wire form.
func VerifyRowProto(root []byte, total, index uint64, rowBytes []byte, pb *cmtcrypto.Proof) error {
	p, err := ProofFromProto(pb)
	if err != nil {
		return err
	}
	return VerifyRow(root, total, index, rowBytes, p)
}
