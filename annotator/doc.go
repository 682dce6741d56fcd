// Package annotator is the annotator's side of x/annotation: a local web
// page (`hinterlandd annotate`) through which a person labels the items of
// annotation jobs, signing with the local keyring.
//
// Flow: the page lists the jobs in JOB_STATUS_LABELLING; "claim" sends
// MsgClaimBatch (the chain draws the group, never the annotator); the items
// of the group are fetched from the job's items URI (file://, http(s)://),
// each row checked with its Merkle proof against the job's items root, and
// shown as they are (784-byte rows as 28 x 28 images, other rows as
// numbers; preference rows as candidates A and B side by side; a
// classification row's own label is never shown). When the person has
// labelled the last item the server draws a 32-byte salt, writes the labels
// and the salt to disk, and only then sends MsgSealLabels with
// types.LabelsSeal. A background loop opens every sealed batch on disk whose
// job has reached JOB_STATUS_OPENING (MsgOpenLabels with the stored labels and
// salt), retrying every poll interval; after settlement the page shows each
// batch's gold accuracy, accepted labels and pay.
//
// Work dir layout:
//
//	batches/<job>-<group>.json   a claimed batch: items, every prepared seal
//	                             (labels, salt, seal, tx), done/opened marks;
//	                             written with fsync and an atomic rename
//	datasets/<root>.hlds         item sets downloaded over http(s)
//
// The server listens on loopback only; its API needs the random token in the
// URL printed at start-up (see TokenHeader), and the page never sees a key
// or a salt.
package annotator
