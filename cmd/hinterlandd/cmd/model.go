package cmd

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/worker"
)

// modelCmd groups the commands that use a model offline.
func modelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Use trained models offline (deterministic generation)",
	}
	cmd.AddCommand(modelGenerateCmd())
	cmd.AddCommand(modelPairsCmd())
	cmd.AddCommand(modelAlignEvalCmd())
	return cmd
}

// loadModel reads --model: a file holding an engine model encoding, or a
// model hash looked up as <work dir>/models/<hash>.model (the worker's store).
func loadModel(cmd *cobra.Command, ref string) (*engine.Model, error) {
	if b, err := os.ReadFile(ref); err == nil {
		return engine.DecodeModel(b)
	}
	hash, err := hex.DecodeString(ref)
	if err != nil || len(hash) != 32 {
		return nil, fmt.Errorf("--model %q: neither a readable model file nor a 64-hex-digit model hash", ref)
	}
	dir, err := workDir(cmd)
	if err != nil {
		return nil, err
	}
	return worker.ReadModel(filepath.Join(dir, "models"), hash)
}

func modelGenerateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate --model (HASH|FILE) --prompt TEXT [--max-tokens N] [--top-k K] [--seed S]",
		Short: "Continue a prompt with a transformer model, reproducibly on every machine",
		Long: `Continue a prompt with a byte-level transformer model using the engine's integer forward pass
and integer top-k sampling seeded by --seed: anyone with the model, the prompt and the options gets the
same bytes, so a published sample can be checked. --top-k 1 is greedy decoding.
--model is a model file (engine encoding) or a model hash found in <work dir>/models.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ref, _ := cmd.Flags().GetString("model")
			prompt, _ := cmd.Flags().GetString("prompt")
			maxTokens, _ := cmd.Flags().GetInt("max-tokens")
			topK, _ := cmd.Flags().GetInt("top-k")
			seed, _ := cmd.Flags().GetUint64("seed")
			stop, _ := cmd.Flags().GetInt("stop")
			if ref == "" {
				return fmt.Errorf("--model is required")
			}
			m, err := loadModel(cmd, ref)
			if err != nil {
				return err
			}
			var s [32]byte
			binary.LittleEndian.PutUint64(s[:], seed)
			out, err := engine.Generate(m, []byte(prompt), engine.GenerateOptions{MaxTokens: maxTokens, TopK: topK, Seed: s, Stop: stop})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s%s\n", prompt, out)
			return err
		},
	}
	f := cmd.Flags()
	f.String("model", "", "Model file or model hash (hex) in <work dir>/models")
	f.String("prompt", "", "Prompt text")
	f.Int("max-tokens", 64, fmt.Sprintf("Bytes to generate (1..%d)", engine.MaxGenerateTokens))
	f.Int("top-k", 1, "Sample among the K most likely bytes (1 = greedy, 0 = all 256)")
	f.Uint64("seed", 0, "Sampling seed (little-endian in the first 8 bytes of the 32-byte seed)")
	f.Int("stop", -1, "Stop after this byte (0..255, 10 = newline), -1 for none")
	f.String(flagWorkDir, "", "Work directory holding models/ (default <home>/worker)")
	return cmd
}
