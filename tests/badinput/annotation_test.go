package badinput

import (
	"bytes"
	"strings"
	"time"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/testutil/apptest"
	annotationtypes "github.com/hinterland-ai/hinterland/x/annotation/types"
)

// annErr is a registered x/annotation error.
func annErr(c uint32) code { return code{annotationtypes.ModuleName, c} }

// x/annotation's registered errors (x/annotation/types/errors.go).
var (
	errInvalidJob     = annErr(5)
	errSchemaMismatch = annErr(6)
	errEscrow         = annErr(7)
	errJobNotFound    = annErr(8)
	errWrongPhase     = annErr(9)
	errNoBatchLeft    = annErr(10)
	errOwnJob         = annErr(11)
	errBatchNotFound  = annErr(12)
	errAlreadySealed  = annErr(13)
	errBadSeal        = annErr(14)
	errBadLabels      = annErr(15)
	errLate           = annErr(16)
	errEarly          = annErr(17)
	errBadGold        = annErr(18)
	errNotRequester   = annErr(19)
	errInvalidHash    = annErr(20)
)

// handlerCase is a transaction of one message from account `from` that
// passes CheckTx and that its handler refuses with want.
func handlerCase(name string, from int, want code, m func(p *pair) sdk.Msg) badCase {
	return badCase{name: name, from: from, check: ok, block: want,
		tx: func(p *pair) ([]byte, apptest.TxOptions) {
			return p.bad(from, apptest.TxOptions{}, m(p)), apptest.TxOptions{}
		}}
}

// annotationCases are the bad annotation messages on the pair's jobs (see
// annotationJobs), in any order and at any time of the corpus.
func annotationCases() []badCase {
	postCase := func(name string, want code, mutate func(*annotationtypes.MsgPostJob)) badCase {
		return handlerCase("post job: "+name, posterI, want, func(p *pair) sdk.Msg {
			m := p.postJob(2, 16, time.Hour)
			mutate(m)
			return m
		})
	}
	openCase := func(name string, from int, want code, mutate func(*pair, *annotationtypes.MsgOpenLabels)) badCase {
		return handlerCase("open labels: "+name, from, want, func(p *pair) sdk.Msg {
			m := p.open(p.Ann.Opening, p.Ann.Opened, workerI)
			m.Annotator = p.addr(from)
			mutate(p, m)
			return m
		})
	}
	goldCase := func(name string, from int, want code, mutate func(*pair, *annotationtypes.MsgRevealGold)) badCase {
		return handlerCase("reveal gold: "+name, from, want, func(p *pair) sdk.Msg {
			m := &annotationtypes.MsgRevealGold{Requester: p.addr(from), JobId: p.Ann.Opening, Gold: goldSet(p.t), Salt: goldSalt}
			mutate(p, m)
			return m
		})
	}
	return []badCase{
		// --- MsgPostJob (refused by its handler; the fee and sequence are spent).
		postCase("escrow the requester cannot cover", errEscrow, func(m *annotationtypes.MsgPostJob) {
			m.PayPerLabel.Amount = sdkmath.NewInt(10_000_000_000) // 128 labels: more than the balance
		}),
		postCase("classification rows for a preference job", errSchemaMismatch, func(m *annotationtypes.MsgPostJob) {
			m.Kind, m.Classes = annotationtypes.LABEL_KIND_PREFERENCE, 2
		}),
		postCase("classes other than the rows'", errSchemaMismatch, func(m *annotationtypes.MsgPostJob) { m.Classes = 5 }),
		postCase("schema of an unknown row kind", errSchemaMismatch, func(m *annotationtypes.MsgPostJob) { m.Items.Schema.Kind = 9 }),
		postCase("unspecified label kind", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.Kind = annotationtypes.LABEL_KIND_UNSPECIFIED }),
		postCase("zero redundancy", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.Redundancy = 0 }),
		postCase("redundancy over max_redundancy", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.Redundancy = annotationtypes.DefaultMaxRedundancy + 1 }),
		postCase("zero batch size", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.BatchSize = 0 }),
		postCase("batch size over max_batch_size", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.BatchSize = annotationtypes.DefaultMaxBatchSize + 1 }),
		postCase("items root of 31 bytes", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.Items.Root = m.Items.Root[:31] }),
		postCase("items root of 33 bytes", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.Items.Root = append(m.Items.Root, 0) }),
		postCase("zero items", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.Items.Rows = 0 }),
		postCase("items over max_items", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.Items.Rows = annotationtypes.DefaultMaxItems + 1 }),
		postCase("items uri of another scheme", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.Items.Uri = "gopher://x/y" }),
		postCase("gold commitment of 31 bytes", errInvalidHash, func(m *annotationtypes.MsgPostJob) { m.GoldCommitment = m.GoldCommitment[:31] }),
		postCase("gold commitment of 33 bytes", errInvalidHash, func(m *annotationtypes.MsgPostJob) { m.GoldCommitment = append(m.GoldCommitment, 0) }),
		postCase("no gold commitment", errInvalidHash, func(m *annotationtypes.MsgPostJob) { m.GoldCommitment = nil }),
		postCase("pay in another denom", errEscrow, func(m *annotationtypes.MsgPostJob) { m.PayPerLabel.Denom = "uatom" }),
		postCase("zero pay", errEscrow, func(m *annotationtypes.MsgPostJob) { m.PayPerLabel.Amount = sdkmath.ZeroInt() }),
		postCase("negative pay", errEscrow, func(m *annotationtypes.MsgPostJob) { m.PayPerLabel.Amount = sdkmath.NewInt(-100) }),
		postCase("stake in another denom", errEscrow, func(m *annotationtypes.MsgPostJob) { m.Stake.Denom = "uatom" }),
		postCase("negative stake", errEscrow, func(m *annotationtypes.MsgPostJob) { m.Stake.Amount = sdkmath.NewInt(-1) }),
		postCase("gold deposit below min_gold_deposit", errEscrow, func(m *annotationtypes.MsgPostJob) { m.GoldDeposit.Amount = sdkmath.NewInt(999) }),
		postCase("gold accuracy beyond certainty", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.MinGoldAccuracyBps = 10_001 }),
		postCase("label window below min_label_window", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.LabelWindow = time.Second }),
		postCase("label window over max_label_window", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.LabelWindow = 31 * 24 * time.Hour }),
		postCase("negative label window", errInvalidJob, func(m *annotationtypes.MsgPostJob) { m.LabelWindow = -time.Hour }),
		postCase("batches over max_batches_per_job", errInvalidJob, func(m *annotationtypes.MsgPostJob) {
			m.Items.Rows, m.BatchSize, m.Redundancy = annotationtypes.DefaultMaxItems, 1, 2 // 40 000 batches
		}),
		{name: "post job: a 200 000-byte uri is charged per byte", from: posterI, check: ok, block: errInvalidJob,
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{Gas: 8_000_000}
				m := p.postJob(2, 16, time.Hour)
				m.Items.Uri = "https://" + strings.Repeat("a", 200_000)
				return p.bad(posterI, o, m), o
			},
			minGas: func(tx []byte) uint64 {
				return 10*uint64(len(tx)) + annotationtypes.DefaultGasPerByte*uint64(len(tx))*9/10
			}},

		// --- MsgClaimBatch.
		handlerCase("claim batch: by the requester", posterI, errOwnJob, func(p *pair) sdk.Msg {
			return &annotationtypes.MsgClaimBatch{Annotator: p.addr(posterI), JobId: p.Ann.Labelling}
		}),
		handlerCase("claim batch: no group left", bystanderI, errNoBatchLeft, func(p *pair) sdk.Msg {
			return &annotationtypes.MsgClaimBatch{Annotator: p.addr(bystanderI), JobId: p.Ann.Full}
		}),
		handlerCase("claim batch: the only open group is the annotator's own", workerI, errNoBatchLeft, func(p *pair) sdk.Msg {
			return &annotationtypes.MsgClaimBatch{Annotator: p.addr(workerI), JobId: p.Ann.Single}
		}),
		handlerCase("claim batch: after the label deadline", bystanderI, errWrongPhase, func(p *pair) sdk.Msg {
			return &annotationtypes.MsgClaimBatch{Annotator: p.addr(bystanderI), JobId: p.Ann.Opening}
		}),
		handlerCase("claim batch: unknown job", bystanderI, errJobNotFound, func(p *pair) sdk.Msg {
			return &annotationtypes.MsgClaimBatch{Annotator: p.addr(bystanderI), JobId: 999}
		}),

		// --- MsgSealLabels.
		handlerCase("seal labels: a batch not assigned to the sender", bystanderI, errBatchNotFound, func(p *pair) sdk.Msg {
			m := p.seal(p.Ann.Labelling, p.Ann.Claimed, workerI)
			m.Annotator = p.addr(bystanderI)
			return m
		}),
		handlerCase("seal labels: a group of the sender's that is another's", workerI, errBatchNotFound, func(p *pair) sdk.Msg {
			return p.seal(p.Ann.Labelling, p.Ann.Sealed, workerI) // worker2's group
		}),
		handlerCase("seal labels: a second seal of the same batch", worker2I, errAlreadySealed, func(p *pair) sdk.Msg {
			return p.seal(p.Ann.Labelling, p.Ann.Sealed, worker2I)
		}),
		handlerCase("seal labels: a forfeited batch", worker2I, errLate, func(p *pair) sdk.Msg {
			return p.seal(p.Ann.Opening, p.Ann.Forfeited, worker2I)
		}),
		handlerCase("seal labels: a seal of 31 bytes", workerI, errInvalidHash, func(p *pair) sdk.Msg {
			m := p.seal(p.Ann.Labelling, p.Ann.Claimed, workerI)
			m.Seal = m.Seal[:31]
			return m
		}),
		handlerCase("seal labels: a seal of 33 bytes", workerI, errInvalidHash, func(p *pair) sdk.Msg {
			m := p.seal(p.Ann.Labelling, p.Ann.Claimed, workerI)
			m.Seal = append(m.Seal, 0)
			return m
		}),
		handlerCase("seal labels: unknown job", workerI, errJobNotFound, func(p *pair) sdk.Msg {
			m := p.seal(p.Ann.Labelling, p.Ann.Claimed, workerI)
			m.JobId = 999
			return m
		}),

		// --- MsgOpenLabels.
		handlerCase("open labels: early, before the label deadline", worker2I, errEarly, func(p *pair) sdk.Msg {
			return p.open(p.Ann.Labelling, p.Ann.Sealed, worker2I)
		}),
		openCase("a label outside the label space", workerI, errBadLabels, func(_ *pair, m *annotationtypes.MsgOpenLabels) { m.Labels[3] = 4 }),
		openCase("a label of 255", workerI, errBadLabels, func(_ *pair, m *annotationtypes.MsgOpenLabels) { m.Labels[0] = 255 }),
		openCase("one label short", workerI, errBadLabels, func(_ *pair, m *annotationtypes.MsgOpenLabels) { m.Labels = m.Labels[1:] }),
		openCase("one label too many", workerI, errBadLabels, func(_ *pair, m *annotationtypes.MsgOpenLabels) { m.Labels = append(m.Labels, 0) }),
		openCase("labels that do not match the seal", workerI, errBadSeal, func(_ *pair, m *annotationtypes.MsgOpenLabels) {
			m.Labels[0] = (m.Labels[0] + 1) % 4
		}),
		openCase("another salt than sealed", workerI, errBadSeal, func(_ *pair, m *annotationtypes.MsgOpenLabels) { m.Salt[0] ^= 1 }),
		openCase("a salt of 31 bytes", workerI, errBadSeal, func(_ *pair, m *annotationtypes.MsgOpenLabels) { m.Salt = m.Salt[:31] }),
		openCase("a batch not assigned to the sender", bystanderI, errBatchNotFound, func(*pair, *annotationtypes.MsgOpenLabels) {}),
		openCase("another annotator's seal", worker2I, errBatchNotFound, func(*pair, *annotationtypes.MsgOpenLabels) {}),
		openCase("a forfeited batch", worker2I, errWrongPhase, func(p *pair, m *annotationtypes.MsgOpenLabels) {
			m.Group, m.Labels, m.Salt = p.Ann.Forfeited, p.labels(p.Ann.Opening, p.Ann.Forfeited), labelsSalt(p.Ann.Opening, p.Ann.Forfeited, worker2I)
		}),
		openCase("unknown job", workerI, errJobNotFound, func(_ *pair, m *annotationtypes.MsgOpenLabels) { m.JobId = 999 }),
		{name: "open labels: 300 000 labels are charged per byte", from: workerI, check: ok, block: errBadLabels,
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{Gas: 12_000_000}
				m := p.open(p.Ann.Opening, p.Ann.Opened, workerI)
				m.Labels = bytes.Repeat([]byte{1}, 300_000)
				return p.bad(workerI, o, m), o
			},
			minGas: func(tx []byte) uint64 {
				return 10*uint64(len(tx)) + annotationtypes.DefaultGasPerByte*uint64(len(tx))*9/10
			}},

		// --- MsgRevealGold (Opening: past its label deadline, gold not revealed).
		goldCase("a set that does not match the commitment", posterI, errBadGold, func(_ *pair, m *annotationtypes.MsgRevealGold) {
			m.Gold[2].Label = (m.Gold[2].Label + 1) % 4
		}),
		goldCase("another salt than committed", posterI, errBadGold, func(_ *pair, m *annotationtypes.MsgRevealGold) { m.Salt = m.Salt[:31] }),
		goldCase("a gold item dropped", posterI, errBadGold, func(_ *pair, m *annotationtypes.MsgRevealGold) { m.Gold = m.Gold[1:] }),
		goldCase("items not sorted", posterI, errBadGold, func(_ *pair, m *annotationtypes.MsgRevealGold) {
			m.Gold[0], m.Gold[1] = m.Gold[1], m.Gold[0]
		}),
		goldCase("an item twice", posterI, errBadGold, func(_ *pair, m *annotationtypes.MsgRevealGold) { m.Gold[1] = m.Gold[0] }),
		goldCase("an item beyond the job's", posterI, errBadGold, func(_ *pair, m *annotationtypes.MsgRevealGold) {
			m.Gold[len(m.Gold)-1].Item = 64
		}),
		goldCase("a label outside the label space", posterI, errBadGold, func(_ *pair, m *annotationtypes.MsgRevealGold) { m.Gold[0].Label = 4 }),
		goldCase("fewer items than min_gold_items", posterI, errBadGold, func(_ *pair, m *annotationtypes.MsgRevealGold) { m.Gold = m.Gold[:4] }),
		goldCase("by another than the requester", workerI, errNotRequester, func(*pair, *annotationtypes.MsgRevealGold) {}),
		goldCase("early, before the label deadline", posterI, errEarly, func(p *pair, m *annotationtypes.MsgRevealGold) { m.JobId = p.Ann.Labelling }),
		goldCase("unknown job", posterI, errJobNotFound, func(_ *pair, m *annotationtypes.MsgRevealGold) { m.JobId = 999 }),

		// --- MsgUpdateParams.
		handlerCase("params: x/annotation update by a user", posterI, sdkErr(4), func(p *pair) sdk.Msg {
			return &annotationtypes.MsgUpdateParams{Authority: p.addr(posterI), Params: annotationtypes.DefaultParams()}
		}),
	}
}

// annotationLateCases jump both chains ahead to a deadline (so they come
// after every other case that needs the jobs as newPair left them): a seal
// and an opening in the block at the deadline they missed (the end blocker
// of that block forfeits the batch, on both chains).
func annotationLateCases() []badCase {
	return []badCase{
		{name: "seal labels: late, in the block at the label deadline", from: workerI, check: ok, block: errLate,
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				deadline := p.job(p.Ann.Labelling).LabelDeadline
				p.A.Time, p.B.Time = deadline.Add(-p.A.BlockTime), deadline.Add(-p.B.BlockTime)
				return p.bad(workerI, apptest.TxOptions{}, p.seal(p.Ann.Labelling, p.Ann.Claimed, workerI)), apptest.TxOptions{}
			}},
		{name: "open labels: late, in the block at the open deadline", from: workerI, check: ok, block: errLate,
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				deadline := p.job(p.Ann.Opening).OpenDeadline
				p.A.Time, p.B.Time = deadline.Add(-p.A.BlockTime), deadline.Add(-p.B.BlockTime)
				return p.bad(workerI, apptest.TxOptions{}, p.open(p.Ann.Opening, p.Ann.Opened, workerI)), apptest.TxOptions{}
			}},
		{name: "reveal gold: late, in the block at the gold deadline", from: posterI, check: ok, block: errLate,
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				deadline := p.job(p.Ann.Opening).GoldDeadline
				p.A.Time, p.B.Time = deadline.Add(-p.A.BlockTime), deadline.Add(-p.B.BlockTime)
				m := &annotationtypes.MsgRevealGold{Requester: p.addr(posterI), JobId: p.Ann.Opening, Gold: goldSet(p.t), Salt: goldSalt}
				return p.bad(posterI, apptest.TxOptions{}, m), apptest.TxOptions{}
			}},
	}
}
