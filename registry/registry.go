// Package registry holds Hinterland's public testnet profile in the cosmos
// chain-registry format (chain.json, assetlist.json) and derives the Keplr
// wallet's experimentalSuggestChain config from them (keplr.json).
//
// Validate checks the files against the chain-registry schemas' rules that
// wallets and explorers rely on (required fields, name and id patterns, enum
// values, a consistent bech32 config, fee and staking tokens that the asset
// list defines with a base unit of exponent 0); app's tests check them
// against the app's own constants (prefix, denom, minimum gas price).
package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
)

// Chain is chain.json (the fields Hinterland fills).
type Chain struct {
	Schema       string       `json:"$schema"`
	ChainName    string       `json:"chain_name"`
	Status       string       `json:"status"`
	NetworkType  string       `json:"network_type"`
	Website      string       `json:"website,omitempty"`
	PrettyName   string       `json:"pretty_name"`
	ChainType    string       `json:"chain_type"`
	ChainID      string       `json:"chain_id"`
	Bech32Prefix string       `json:"bech32_prefix"`
	Bech32Config Bech32Config `json:"bech32_config"`
	DaemonName   string       `json:"daemon_name"`
	NodeHome     string       `json:"node_home"`
	KeyAlgos     []string     `json:"key_algos"`
	Slip44       int          `json:"slip44"`
	Fees         struct {
		FeeTokens []FeeToken `json:"fee_tokens"`
	} `json:"fees"`
	Staking struct {
		StakingTokens []struct {
			Denom string `json:"denom"`
		} `json:"staking_tokens"`
	} `json:"staking"`
	Codebase json.RawMessage `json:"codebase"`
	APIs     struct {
		RPC  []Endpoint `json:"rpc"`
		REST []Endpoint `json:"rest"`
		GRPC []Endpoint `json:"grpc"`
	} `json:"apis"`
}

// Bech32Config is the address prefixes (Keplr's names).
type Bech32Config struct {
	AccAddr  string `json:"bech32PrefixAccAddr"`
	AccPub   string `json:"bech32PrefixAccPub"`
	ValAddr  string `json:"bech32PrefixValAddr"`
	ValPub   string `json:"bech32PrefixValPub"`
	ConsAddr string `json:"bech32PrefixConsAddr"`
	ConsPub  string `json:"bech32PrefixConsPub"`
}

// FeeToken is a fee denom with its gas prices.
type FeeToken struct {
	Denom            string  `json:"denom"`
	FixedMinGasPrice float64 `json:"fixed_min_gas_price"`
	LowGasPrice      float64 `json:"low_gas_price"`
	AverageGasPrice  float64 `json:"average_gas_price"`
	HighGasPrice     float64 `json:"high_gas_price"`
}

// Endpoint is an API address.
type Endpoint struct {
	Address  string `json:"address"`
	Provider string `json:"provider"`
}

// AssetList is assetlist.json.
type AssetList struct {
	Schema    string  `json:"$schema"`
	ChainName string  `json:"chain_name"`
	Assets    []Asset `json:"assets"`
}

// Asset is one asset of the list.
type Asset struct {
	Description string      `json:"description"`
	DenomUnits  []DenomUnit `json:"denom_units"`
	TypeAsset   string      `json:"type_asset"`
	Base        string      `json:"base"`
	Name        string      `json:"name"`
	Display     string      `json:"display"`
	Symbol      string      `json:"symbol"`
}

// DenomUnit is a unit of an asset: 10^exponent base units.
type DenomUnit struct {
	Denom    string `json:"denom"`
	Exponent int    `json:"exponent"`
}

// Load reads and decodes a JSON file, refusing unknown fields.
func Load(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

var (
	chainNameRE = regexp.MustCompile(`^[a-z0-9]+$`)
	chainIDRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*-[0-9]+$`)
	denomRE     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$`)
)

// Validate checks chain.json and assetlist.json together.
func Validate(c Chain, a AssetList) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !chainNameRE.MatchString(c.ChainName) {
		fail("chain_name %q: want lower-case letters and digits", c.ChainName)
	}
	if c.ChainType != "cosmos" {
		fail("chain_type %q: want cosmos", c.ChainType)
	}
	if !slices.Contains([]string{"live", "upcoming", "killed"}, c.Status) {
		fail("status %q: want live, upcoming or killed", c.Status)
	}
	if !slices.Contains([]string{"mainnet", "testnet", "devnet"}, c.NetworkType) {
		fail("network_type %q: want mainnet, testnet or devnet", c.NetworkType)
	}
	if want := map[string]string{"mainnet": "../chain.schema.json"}[c.NetworkType]; want == "" && c.Schema != "../../chain.schema.json" || want != "" && c.Schema != want {
		fail("$schema %q does not match a %s profile's place in the registry", c.Schema, c.NetworkType)
	}
	if !chainIDRE.MatchString(c.ChainID) {
		fail("chain_id %q: want <name>-<revision number> (IBC revision format)", c.ChainID)
	}
	if c.PrettyName == "" || c.DaemonName == "" || c.NodeHome == "" {
		fail("pretty_name, daemon_name and node_home are required")
	}
	p := c.Bech32Prefix
	want := Bech32Config{p, p + "pub", p + "valoper", p + "valoperpub", p + "valcons", p + "valconspub"}
	if p == "" || c.Bech32Config != want {
		fail("bech32_config %+v does not follow bech32_prefix %q (want %+v)", c.Bech32Config, p, want)
	}
	if !slices.Equal(c.KeyAlgos, []string{"secp256k1"}) || c.Slip44 != 118 {
		fail("key_algos %v / slip44 %d: the chain signs with secp256k1 keys on coin type 118", c.KeyAlgos, c.Slip44)
	}
	if a.ChainName != c.ChainName {
		fail("assetlist chain_name %q, chain.json says %q", a.ChainName, c.ChainName)
	}
	assets := map[string]Asset{}
	for _, as := range a.Assets {
		if err := validateAsset(as); err != nil {
			fail("asset %q: %w", as.Base, err)
		}
		assets[as.Base] = as
	}
	if len(c.Fees.FeeTokens) == 0 || len(c.Staking.StakingTokens) == 0 {
		fail("fees.fee_tokens and staking.staking_tokens are required")
	}
	for _, ft := range c.Fees.FeeTokens {
		if _, ok := assets[ft.Denom]; !ok {
			fail("fee token %q is not in the asset list", ft.Denom)
		}
		if !(0 < ft.FixedMinGasPrice && ft.FixedMinGasPrice <= ft.LowGasPrice && ft.LowGasPrice <= ft.AverageGasPrice && ft.AverageGasPrice <= ft.HighGasPrice) {
			fail("fee token %q: want 0 < fixed_min <= low <= average <= high gas price", ft.Denom)
		}
	}
	for _, st := range c.Staking.StakingTokens {
		if _, ok := assets[st.Denom]; !ok {
			fail("staking token %q is not in the asset list", st.Denom)
		}
	}
	if len(c.APIs.RPC) == 0 || len(c.APIs.REST) == 0 {
		fail("apis.rpc and apis.rest need an endpoint each (wallets connect to them)")
	}
	return errors.Join(errs...)
}

func validateAsset(a Asset) error {
	if !denomRE.MatchString(a.Base) || a.Name == "" || a.Symbol == "" || a.Description == "" {
		return errors.New("base (a valid denom), name, symbol and description are required")
	}
	if a.TypeAsset != "sdk.coin" {
		return fmt.Errorf("type_asset %q: want sdk.coin (a native denom)", a.TypeAsset)
	}
	exps := map[string]int{}
	for _, u := range a.DenomUnits {
		if _, dup := exps[u.Denom]; dup || u.Exponent < 0 || u.Exponent > 18 {
			return fmt.Errorf("denom unit %q: duplicate or exponent %d out of 0..18", u.Denom, u.Exponent)
		}
		exps[u.Denom] = u.Exponent
	}
	if e, ok := exps[a.Base]; !ok || e != 0 {
		return errors.New("denom_units must hold the base with exponent 0")
	}
	if _, ok := exps[a.Display]; !ok {
		return fmt.Errorf("display %q is not one of the denom units", a.Display)
	}
	return nil
}

// Keplr is the experimentalSuggestChain config of a chain.
type Keplr struct {
	ChainID   string `json:"chainId"`
	ChainName string `json:"chainName"`
	RPC       string `json:"rpc"`
	REST      string `json:"rest"`
	BIP44     struct {
		CoinType int `json:"coinType"`
	} `json:"bip44"`
	Bech32Config  Bech32Config    `json:"bech32Config"`
	Currencies    []KeplrCurrency `json:"currencies"`
	FeeCurrencies []KeplrCurrency `json:"feeCurrencies"`
	StakeCurrency KeplrCurrency   `json:"stakeCurrency"`
	Features      []string        `json:"features"`
}

// KeplrCurrency is a currency in Keplr's terms.
type KeplrCurrency struct {
	CoinDenom        string         `json:"coinDenom"`
	CoinMinimalDenom string         `json:"coinMinimalDenom"`
	CoinDecimals     int            `json:"coinDecimals"`
	GasPriceStep     *KeplrGasSteps `json:"gasPriceStep,omitempty"`
}

// KeplrGasSteps are the wallet's low, average and high gas prices.
type KeplrGasSteps struct {
	Low     float64 `json:"low"`
	Average float64 `json:"average"`
	High    float64 `json:"high"`
}

// KeplrConfig derives the Keplr config from validated registry files: the
// first RPC and REST endpoints, the bech32 config, every asset as a currency
// (its display unit's exponent as decimals), the fee tokens with their gas
// price steps and the first staking token; the ibc-transfer and ibc-go
// features when the codebase enables ICS-20.
func KeplrConfig(c Chain, a AssetList) (Keplr, error) {
	if err := Validate(c, a); err != nil {
		return Keplr{}, err
	}
	cur := func(denom string) KeplrCurrency {
		for _, as := range a.Assets {
			if as.Base == denom {
				k := KeplrCurrency{CoinDenom: as.Symbol, CoinMinimalDenom: as.Base}
				for _, u := range as.DenomUnits {
					if u.Denom == as.Display {
						k.CoinDecimals = u.Exponent
					}
				}
				return k
			}
		}
		return KeplrCurrency{}
	}
	k := Keplr{ChainID: c.ChainID, ChainName: c.PrettyName, RPC: c.APIs.RPC[0].Address, REST: c.APIs.REST[0].Address,
		Bech32Config: c.Bech32Config, Features: []string{}}
	// A chain with ICS-20 lets Keplr send its tokens over IBC.
	var cb struct {
		IBC struct {
			ICSEnabled []string `json:"ics_enabled"`
		} `json:"ibc"`
	}
	if len(c.Codebase) > 0 {
		if err := json.Unmarshal(c.Codebase, &cb); err != nil {
			return Keplr{}, fmt.Errorf("codebase: %w", err)
		}
	}
	if slices.Contains(cb.IBC.ICSEnabled, "ics20-1") {
		k.Features = append(k.Features, "ibc-transfer", "ibc-go")
	}
	k.BIP44.CoinType = c.Slip44
	for _, as := range a.Assets {
		k.Currencies = append(k.Currencies, cur(as.Base))
	}
	for _, ft := range c.Fees.FeeTokens {
		fc := cur(ft.Denom)
		fc.GasPriceStep = &KeplrGasSteps{Low: ft.LowGasPrice, Average: ft.AverageGasPrice, High: ft.HighGasPrice}
		k.FeeCurrencies = append(k.FeeCurrencies, fc)
	}
	k.StakeCurrency = cur(c.Staking.StakingTokens[0].Denom)
	return k, nil
}
