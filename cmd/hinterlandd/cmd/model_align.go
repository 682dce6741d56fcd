package cmd

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client/flags"

	"github.com/hinterland-ai/hinterland/pkg/align"
	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
)

const (
	flagAlignOut          = "out"
	flagAlignHeldout      = "heldout"
	flagAlignHeldoutShare = "heldout-share"
	flagAlignPrompts      = "prompts"
	flagAlignSamples      = "samples"
	flagAlignTopK         = "top-k"
	flagAlignSeed         = "seed"
	flagAlignMaxCut       = "max-cut"
	flagAlignPolicy       = "policy"
	flagAlignRef          = "ref"
	flagAlignPairs        = "pairs"
	flagAlignBeta         = "beta"
)

// seed32 puts a --seed value little-endian in the first 8 bytes of a
// 32-byte seed, as `model generate` does.
func seed32(s uint64) [32]byte {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[:], s)
	return b
}

// alignPrompts draws the held-out prompts of --src (default the Go standard
// library) for a model of context T.
func alignPrompts(cmd *cobra.Command, context, count int, seed [32]byte) (src string, prompts [][]byte, err error) {
	fl := cmd.Flags()
	src, _ = fl.GetString(flagSrc)
	valShare, _ := fl.GetUint32(flagValShare)
	maxCut, _ := fl.GetInt(flagAlignMaxCut)
	if src == "" {
		if src, err = goSourceDir(); err != nil {
			return "", nil, err
		}
	}
	fsys := os.DirFS(src)
	files, err := dataset.TextFiles(fsys, nil)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", src, err)
	}
	prompts, err = align.Prompts(fsys, files, align.PromptOptions{Context: context, Count: count, ValShare: valShare, MaxCut: maxCut, Seed: seed})
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", src, err)
	}
	return src, prompts, nil
}

// addPromptFlags registers the flags alignPrompts reads.
func addPromptFlags(cmd *cobra.Command, count int) {
	f := cmd.Flags()
	f.String(flagSrc, "", "Root of the Go tree the prompts come from (default: $(go env GOROOT)/src)")
	f.Uint32(flagValShare, 16, "--val-share of the pack-text run that made the pretraining data: prompts come from its validation files")
	f.Int(flagAlignPrompts, count, "Prompts to draw")
	f.Int(flagAlignMaxCut, align.DefaultMaxCut, "A prompt keeps 1..N bytes of its statement after the indentation")
	f.StringP(flags.FlagOutput, "o", "text", "Output format (text|json)")
	f.String(flagWorkDir, "", "Work directory holding models/ (default <home>/worker)")
}

// pairsInfo is what `model pairs` prints.
type pairsInfo struct {
	Model   string          `json:"model"`
	Context int             `json:"context"`
	Source  string          `json:"source"`
	Stats   align.PairStats `json:"stats"`
	Train   datasetInfo     `json:"train"`
	Heldout *datasetInfo    `json:"heldout,omitempty"`
}

// heldOutPair reports whether pair k of a run goes to the held-out file: k
// does when floor((k+1) s) > floor(k s) for a share of s = ppm / 10^6, which
// sends exactly floor(n s) of n pairs, spread evenly.
func heldOutPair(k int, ppm int64) bool {
	return (int64(k)+1)*ppm/1e6 > int64(k)*ppm/1e6
}

func modelPairsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pairs --model (HASH|FILE) --out PAIRS.hlds [--heldout HELDOUT.hlds --heldout-share 0.2] [--prompts N] [--samples K] [--top-k K] [--seed S] [--src DIR]",
		Short: "Sample preference pairs (the continuation that parses as Go over one that does not) for DPO",
		Long: `Sample DPO preference pairs from a byte-level transformer with a rule a program checks: of two
continuations of a Go line, prefer the one that completes it into a statement (go/parser).

Prompts are starts of statement lines of function bodies (indentation and the first 1..--max-cut bytes)
from the files of --src that pack-text puts in the validation split for --val-share, so a model
pretrained on the training split never saw them. For each prompt, --samples continuations are sampled
(top-k sampling, seeded from --seed and the prompt's index) up to a newline or the end of the row; a
prompt with at least one continuation that parses and one that does not gives a pair row
(kind=token-preference, T+1 bytes each side, padded with zero bytes; the prompt length is recorded).
With --heldout, a --heldout-share of the pairs (spread evenly) goes to that file instead, for
align-eval. The same model, tree and flags give the same rows and roots on every machine.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			ref, _ := fl.GetString("model")
			out, _ := fl.GetString(flagAlignOut)
			heldout, _ := fl.GetString(flagAlignHeldout)
			share, _ := fl.GetFloat64(flagAlignHeldoutShare)
			count, _ := fl.GetInt(flagAlignPrompts)
			samples, _ := fl.GetInt(flagAlignSamples)
			topK, _ := fl.GetInt(flagAlignTopK)
			seed, _ := fl.GetUint64(flagAlignSeed)
			if ref == "" || out == "" {
				return errors.New("give the model with --model and the output file with --out")
			}
			var ppm int64
			if heldout != "" {
				if !(share > 0 && share < 1) {
					return fmt.Errorf("--%s %v: want a share strictly between 0 and 1", flagAlignHeldoutShare, share)
				}
				if filepath.Clean(heldout) == filepath.Clean(out) {
					return fmt.Errorf("--%s and --%s name the same file", flagAlignOut, flagAlignHeldout)
				}
				ppm = int64(math.Round(share * 1e6))
			}
			m, err := loadModel(cmd, ref)
			if err != nil {
				return err
			}
			if m.Arch.Kind != engine.ModelTransformer {
				return fmt.Errorf("--model: not a transformer (model kind %d)", m.Arch.Kind)
			}
			T := m.Arch.Context()
			src, prompts, err := alignPrompts(cmd, T, count, seed32(seed))
			if err != nil {
				return err
			}
			rows, st, err := align.Pairs(m, prompts, align.PairOptions{Samples: samples, TopK: topK, Seed: seed32(seed)})
			if err != nil {
				return err
			}
			schema := align.PairSchema(uint32(T))
			var train, held [][]byte
			for k, r := range rows {
				b, err := dataset.EncodeRow(schema, r)
				if err != nil {
					return err
				}
				if heldout != "" && heldOutPair(k, ppm) {
					held = append(held, b)
				} else {
					train = append(train, b)
				}
			}
			if len(train) == 0 {
				return fmt.Errorf("%d prompts gave %d pairs, none left for --%s (%+v): try more --%s or --%s, or another --%s",
					st.Prompts, st.Pairs, flagAlignOut, st, flagAlignPrompts, flagAlignSamples, flagAlignTopK)
			}
			if heldout != "" && len(held) == 0 {
				return fmt.Errorf("%d pairs give no held-out pair at --%s %v: raise it or draw more --%s", st.Pairs, flagAlignHeldoutShare, share, flagAlignPrompts)
			}
			info := pairsInfo{Model: m.Hash().String(), Context: T, Source: src, Stats: st}
			write := func(path string, rows [][]byte) (datasetInfo, error) {
				f, err := dataset.NewFile(schema, rows)
				if err != nil {
					return datasetInfo{}, err
				}
				if err := writePacked(path, f); err != nil {
					return datasetInfo{}, err
				}
				return describe(path, f)
			}
			if info.Train, err = write(out, train); err != nil {
				return err
			}
			if heldout != "" {
				h, err := write(heldout, held)
				if err != nil {
					return err
				}
				info.Heldout = &h
			}
			return printPairs(cmd, info)
		},
	}
	addPromptFlags(cmd, 256)
	f := cmd.Flags()
	f.String("model", "", "Model file or model hash (hex) in <work dir>/models")
	f.String(flagAlignOut, "", "Output file of the pairs (.hlds)")
	f.String(flagAlignHeldout, "", "Output file of the held-out pairs (.hlds); none without it")
	f.Float64(flagAlignHeldoutShare, 0.2, "Share of the pairs that go to --heldout")
	f.Int(flagAlignSamples, 4, "Continuations sampled per prompt (>= 2)")
	f.Int(flagAlignTopK, 8, "Sample among the K most likely bytes (>= 2)")
	f.Uint64(flagAlignSeed, 0, "Seed of the prompt order and the sampling (little-endian in the first 8 bytes of the 32-byte seed)")
	return cmd
}

func printPairs(cmd *cobra.Command, info pairsInfo) error {
	if o, _ := cmd.Flags().GetString(flags.FlagOutput); o == flags.OutputFormatJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(info)
	}
	w := cmd.OutOrStdout()
	st := info.Stats
	fmt.Fprintf(w, "model:   %s (context %d)\nsource:  %s\n", info.Model, info.Context, info.Source)
	fmt.Fprintf(w, "prompts: %d, %d samples, %d parse\n", st.Prompts, st.Samples, st.Parsed)
	fmt.Fprintf(w, "pairs:   %d (skipped: %d prompts where every sample parsed, %d where none did)\n", st.Pairs, st.AllParse, st.NoneParse)
	printSplit(w, "train:", info.Train)
	if info.Heldout != nil {
		printSplit(w, "heldout:", *info.Heldout)
	}
	return nil
}

func printSplit(w io.Writer, name string, d datasetInfo) {
	fmt.Fprintf(w, "%-8s %d rows\n         file %s (%d bytes)\n         root %s\n         schema %s\n", name, d.Rows, d.File, d.Bytes, d.Root, d.Schema)
}

// alignEvalInfo is what `model align-eval` prints.
type alignEvalInfo struct {
	Policy string  `json:"policy"`
	Ref    string  `json:"ref"`
	Beta   float64 `json:"beta"`
	Source string  `json:"source,omitempty"`
	align.Metrics
}

func modelAlignEvalCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "align-eval --policy (HASH|FILE) --ref (HASH|FILE) [--pairs HELDOUT.hlds] [--beta B] [--prompts N] [--seed S] [--src DIR]",
		Short: "Measure a DPO-trained policy against its reference: parse share, reward accuracy, KL",
		Long: `Measure a policy (e.g. the merged model of a DPO task) against its reference (the base):

  parse share      the share of --prompts held-out prompts (drawn as by model pairs, from --src,
                   --val-share and --seed; use another --seed than the pairs run for other prompts)
                   whose greedy continuation by the policy completes a Go statement
  KL               the mean KL(policy || ref) per token of those continuations, in nats
  reward accuracy  the share of the --pairs rows (token-preference rows of the models' context)
                   whose implicit reward margin beta*((lp(w)-lref(w)) - (lp(l)-lref(l))) is > 0,
                   log-probabilities summed over the tokens the DPO loss scores; ties (a policy
                   equal to its reference) count as wrong

--prompts 0 skips the first two; without --pairs the third is skipped.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			pref, _ := fl.GetString(flagAlignPolicy)
			rref, _ := fl.GetString(flagAlignRef)
			pairsPath, _ := fl.GetString(flagAlignPairs)
			beta, _ := fl.GetFloat64(flagAlignBeta)
			count, _ := fl.GetInt(flagAlignPrompts)
			seed, _ := fl.GetUint64(flagAlignSeed)
			if pref == "" || rref == "" {
				return fmt.Errorf("give the models with --%s and --%s", flagAlignPolicy, flagAlignRef)
			}
			if count < 0 {
				return fmt.Errorf("--%s %d: want 0 or more", flagAlignPrompts, count)
			}
			if count == 0 && pairsPath == "" {
				return fmt.Errorf("nothing to measure: give --%s or --%s > 0", flagAlignPairs, flagAlignPrompts)
			}
			policy, err := loadModel(cmd, pref)
			if err != nil {
				return fmt.Errorf("--%s: %w", flagAlignPolicy, err)
			}
			ref, err := loadModel(cmd, rref)
			if err != nil {
				return fmt.Errorf("--%s: %w", flagAlignRef, err)
			}
			info := alignEvalInfo{Policy: policy.Hash().String(), Ref: ref.Hash().String(), Beta: beta}
			var rows []dataset.Row
			if pairsPath != "" {
				f, err := dataset.Open(pairsPath)
				if err != nil {
					return err
				}
				if s := f.Schema(); s != align.PairSchema(uint32(policy.Arch.Context())) {
					return fmt.Errorf("%s: rows are not token-preference pairs of %d tokens (the policy's context + 1)", pairsPath, policy.Arch.Context()+1)
				}
				for i := uint64(0); i < f.Len(); i++ {
					r, err := f.Row(i)
					if err != nil {
						return err
					}
					rows = append(rows, r)
				}
			}
			var prompts [][]byte
			if count > 0 {
				if info.Source, prompts, err = alignPrompts(cmd, policy.Arch.Context(), count, seed32(seed)); err != nil {
					return err
				}
			}
			if info.Metrics, err = align.Evaluate(policy, ref, beta, rows, prompts); err != nil {
				return err
			}
			return printAlignEval(cmd, info)
		},
	}
	addPromptFlags(cmd, 64)
	f := cmd.Flags()
	f.String(flagAlignPolicy, "", "Policy model file or model hash (hex) in <work dir>/models")
	f.String(flagAlignRef, "", "Reference model file or model hash")
	f.String(flagAlignPairs, "", "Held-out pairs (.hlds, e.g. model pairs --heldout)")
	f.Float64(flagAlignBeta, 0.1, "DPO beta: scales the reward margin (not its sign)")
	f.Uint64(flagAlignSeed, 1, "Seed of the prompt order")
	return cmd
}

func printAlignEval(cmd *cobra.Command, info alignEvalInfo) error {
	if o, _ := cmd.Flags().GetString(flags.FlagOutput); o == flags.OutputFormatJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(info)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "policy:          %s\nref:             %s\n", info.Policy, info.Ref)
	if info.Prompts > 0 {
		fmt.Fprintf(w, "parse share:     %.4f (%d of %d greedy continuations; prompts from %s)\n", info.ParseShare, info.Parsed, info.Prompts, info.Source)
		fmt.Fprintf(w, "KL(policy||ref): %.6f nats per token (%d tokens)\n", info.KL, info.KLTokens)
	}
	if info.Pairs > 0 {
		fmt.Fprintf(w, "reward accuracy: %.4f (%d of %d held-out pairs; mean margin %.4f at beta %g)\n",
			info.RewardAccuracy, info.RewardCorrect, info.Pairs, info.RewardMargin, info.Beta)
	}
	return nil
}
