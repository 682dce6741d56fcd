package chainproc

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	gogoproto "github.com/cosmos/gogoproto/proto"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	"github.com/cosmos/cosmos-sdk/x/auth"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/bank"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/hinterland-ai/hinterland/app"
	"github.com/hinterland-ai/hinterland/testutil/txbuild"
	"github.com/hinterland-ai/hinterland/x/annotation"
	"github.com/hinterland-ai/hinterland/x/rewards"
	"github.com/hinterland-ai/hinterland/x/tasks"
	"github.com/hinterland-ai/hinterland/x/verification"
)

// gasPrice is GasPrice's amount: what the transactions Network.Sign makes
// pay per unit of gas.
var gasPrice = func() sdkmath.LegacyDec {
	c, err := sdk.ParseDecCoin(GasPrice)
	if err != nil {
		panic(err)
	}
	return c.Amount
}()

// Codec knows the app's messages, accounts and keys.
func Codec() codec.Codec {
	return moduletestutil.MakeTestEncodingConfig(auth.AppModule{}, bank.AppModule{},
		tasks.AppModule{}, verification.AppModule{}, rewards.AppModule{}, annotation.AppModule{}).Codec
}

// Wallet is a funded account: its key, account number and next sequence.
type Wallet struct {
	Name   string
	Key    cryptotypes.PrivKey
	Addr   sdk.AccAddress
	Number uint64
	Seq    uint64
}

// Wallets loads the funded users' keys from the network's keyring and their
// account numbers and sequences from node nd.
func (n *Network) Wallets(nd *Node) []*Wallet {
	n.t.Helper()
	cdc := Codec()
	kr, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, n.Dir, nil, cdc)
	if err != nil {
		n.t.Fatal(err)
	}
	var out []*Wallet
	for _, name := range n.Accounts {
		armor, err := kr.ExportPrivKeyArmor(name, "localnet")
		if err != nil {
			n.t.Fatalf("key %s: %v", name, err)
		}
		key, _, err := crypto.UnarmorDecryptPrivKey(armor, "localnet")
		if err != nil {
			n.t.Fatalf("key %s: %v", name, err)
		}
		w := &Wallet{Name: name, Key: key, Addr: sdk.AccAddress(key.PubKey().Address())}
		if err := n.Refresh(nd, w); err != nil {
			n.t.Fatalf("account %s: %v", name, err)
		}
		out = append(out, w)
	}
	return out
}

// Refresh reloads w's account number and sequence from nd.
func (n *Network) Refresh(nd *Node, w *Wallet) error {
	var res authtypes.QueryAccountResponse
	if err := nd.ABCIQuery("/cosmos.auth.v1beta1.Query/Account", &authtypes.QueryAccountRequest{Address: w.Addr.String()}, &res); err != nil {
		return err
	}
	var acc sdk.AccountI
	if err := Codec().InterfaceRegistry().UnpackAny(res.Account, &acc); err != nil {
		return err
	}
	w.Number, w.Seq = acc.GetAccountNumber(), acc.GetSequence()
	return nil
}

// ABCIQuery runs a gRPC query (path /package.Service/Method) through the
// node's ABCI query endpoint at the latest height.
func (nd *Node) ABCIQuery(path string, req, res gogoproto.Message) error {
	bz, err := gogoproto.Marshal(req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := nd.Client.ABCIQuery(ctx, path, bz)
	if err != nil {
		return err
	}
	if out.Response.Code != 0 {
		return fmt.Errorf("%s: codespace %s code %d: %s", path, out.Response.Codespace, out.Response.Code, out.Response.Log)
	}
	return gogoproto.Unmarshal(out.Response.Value, res)
}

// Balance is addr's balance of the bond denom at the node.
func (nd *Node) Balance(addr string) (sdkmath.Int, error) {
	var res banktypes.QueryBalanceResponse
	if err := nd.ABCIQuery("/cosmos.bank.v1beta1.Query/Balance", &banktypes.QueryBalanceRequest{Address: addr, Denom: app.BondDenom}, &res); err != nil {
		return sdkmath.Int{}, err
	}
	return res.Balance.Amount, nil
}

// Sign returns the bytes of msgs signed by w with w's next sequence, paying
// gas at GasPrice. It does not advance the sequence.
func (n *Network) Sign(w *Wallet, gas uint64, msgs ...sdk.Msg) ([]byte, error) {
	fee := sdk.NewCoins(sdk.NewCoin(app.BondDenom, gasPrice.MulInt64(int64(gas)).Ceil().TruncateInt()))
	parts, err := txbuild.Build(msgs, []txbuild.Signer{{Key: w.Key, AccountNumber: w.Number, Sequence: w.Seq}},
		txbuild.Options{ChainID: n.ChainID, Gas: gas, Fee: fee})
	if err != nil {
		return nil, err
	}
	return parts.Encode(), nil
}

// Sent is a transaction handed to a node.
type Sent struct {
	Hash []byte // SHA-256 of the bytes, as CometBFT names it
	At   time.Time
}

// Broadcast signs msgs as w and hands them to nd (broadcast_tx_sync): the
// node's CheckTx must accept them. w's sequence advances when it does.
func (n *Network) Broadcast(nd *Node, w *Wallet, gas uint64, msgs ...sdk.Msg) (Sent, error) {
	bz, err := n.Sign(w, gas, msgs...)
	if err != nil {
		return Sent{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	at := time.Now()
	res, err := nd.Client.BroadcastTxSync(ctx, cmttypes.Tx(bz))
	if err != nil {
		return Sent{}, err
	}
	if res.Code != 0 {
		return Sent{}, fmt.Errorf("CheckTx refused %s's transaction: codespace %s code %d: %s", w.Name, res.Codespace, res.Code, res.Log)
	}
	w.Seq++
	h := sha256.Sum256(bz)
	return Sent{Hash: h[:], At: at}, nil
}

// FindTx looks a transaction up by hash at the node: found, its code and log.
func (nd *Node) FindTx(hash []byte) (found bool, code uint32, log string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, err := nd.Client.Tx(ctx, hash, false)
	if err != nil {
		return false, 0, err.Error()
	}
	return true, res.TxResult.Code, res.TxResult.Log
}
