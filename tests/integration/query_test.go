package integration

import (
	"encoding/hex"
	"fmt"

	"github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
)

// authtxQuery looks a tx up by hash; it errors until the tx is in a block.
func authtxQuery(ctx client.Context, hash string) (*sdk.TxResponse, error) {
	return authtx.QueryTx(ctx, hash)
}

// unpackResponse decodes the first Msg response of a tx result.
func unpackResponse(cdc codec.Codec, res *sdk.TxResponse, out proto.Message) error {
	bz, err := hex.DecodeString(res.Data)
	if err != nil {
		return err
	}
	var msgData sdk.TxMsgData
	if err := cdc.Unmarshal(bz, &msgData); err != nil {
		return err
	}
	if len(msgData.MsgResponses) == 0 {
		return fmt.Errorf("tx %s has no message response", res.TxHash)
	}
	anyRes := msgData.MsgResponses[0]
	if want := "/" + proto.MessageName(out); anyRes.TypeUrl != want {
		return fmt.Errorf("tx %s answered %s, want %s", res.TxHash, anyRes.TypeUrl, want)
	}
	return proto.Unmarshal(anyRes.Value, out)
}
