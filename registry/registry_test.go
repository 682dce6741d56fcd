package registry

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite keplr.json from chain.json and assetlist.json")

func load(t *testing.T) (Chain, AssetList) {
	t.Helper()
	var c Chain
	var a AssetList
	if err := Load("chain.json", &c); err != nil {
		t.Fatal(err)
	}
	if err := Load("assetlist.json", &a); err != nil {
		t.Fatal(err)
	}
	return c, a
}

// TestRegistryFiles: the committed chain.json and assetlist.json pass the
// chain-registry rules, and keplr.json is what they derive (go test
// ./registry -update rewrites it).
func TestRegistryFiles(t *testing.T) {
	c, a := load(t)
	if err := Validate(c, a); err != nil {
		t.Fatal(err)
	}
	k, err := KeplrConfig(c, a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile("keplr.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("keplr.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("keplr.json is stale: run go test ./registry -update\n%s", got)
	}
	if k.ChainID != c.ChainID || k.BIP44.CoinType != 118 || k.Bech32Config.AccAddr != c.Bech32Prefix ||
		len(k.FeeCurrencies) != 1 || k.FeeCurrencies[0].CoinDecimals != 6 || k.FeeCurrencies[0].GasPriceStep.Low != c.Fees.FeeTokens[0].LowGasPrice ||
		k.StakeCurrency.CoinMinimalDenom != "uhint" || k.StakeCurrency.CoinDenom != "HINT" {
		t.Fatalf("derived config %+v", k)
	}
}

// TestRegistryRefuses: each rule of Validate catches the mistake it is for.
func TestRegistryRefuses(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Chain, *AssetList)
		want   string
	}{
		{"chain name with a hyphen", func(c *Chain, _ *AssetList) { c.ChainName = "hinterland-testnet" }, "chain_name"},
		{"not a cosmos chain", func(c *Chain, _ *AssetList) { c.ChainType = "eip155" }, "chain_type"},
		{"unknown status", func(c *Chain, _ *AssetList) { c.Status = "beta" }, "status"},
		{"unknown network type", func(c *Chain, _ *AssetList) { c.NetworkType = "staging" }, "network_type"},
		{"testnet schema path of a mainnet", func(c *Chain, _ *AssetList) { c.NetworkType = "mainnet" }, "$schema"},
		{"chain id without revision", func(c *Chain, _ *AssetList) { c.ChainID = "hinterland" }, "chain_id"},
		{"bech32 config of another prefix", func(c *Chain, _ *AssetList) { c.Bech32Config.ValAddr = "cosmosvaloper" }, "bech32_config"},
		{"ed25519 keys", func(c *Chain, _ *AssetList) { c.KeyAlgos = []string{"ed25519"} }, "key_algos"},
		{"fee token not listed", func(c *Chain, _ *AssetList) { c.Fees.FeeTokens[0].Denom = "uatom" }, "fee token"},
		{"gas prices out of order", func(c *Chain, _ *AssetList) { c.Fees.FeeTokens[0].HighGasPrice = 0.0001 }, "gas price"},
		{"staking token not listed", func(c *Chain, _ *AssetList) { c.Staking.StakingTokens[0].Denom = "stake" }, "staking token"},
		{"no rpc", func(c *Chain, _ *AssetList) { c.APIs.RPC = nil }, "apis.rpc"},
		{"asset list of another chain", func(_ *Chain, a *AssetList) { a.ChainName = "osmosis" }, "assetlist chain_name"},
		{"base without exponent 0", func(_ *Chain, a *AssetList) { a.Assets[0].DenomUnits[0].Exponent = 1 }, "exponent 0"},
		{"display not a unit", func(_ *Chain, a *AssetList) { a.Assets[0].Display = "HINT" }, "display"},
		{"ibc asset type", func(_ *Chain, a *AssetList) { a.Assets[0].TypeAsset = "ics20" }, "type_asset"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, a := load(t)
			tc.mutate(&c, &a)
			err := Validate(c, a)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
			if _, err := KeplrConfig(c, a); err == nil {
				t.Fatal("KeplrConfig derived a config from invalid files")
			}
		})
	}
	var c Chain
	if err := Load("testdata/unknown-field.json", &c); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("unknown field: %v", err)
	}
}
