package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/rampart/rampart/internal/app"
)

// runBackup serves `rampart backup`: one consistent snapshot of a (possibly
// serving) installation's store, in a file that needs the installation's
// seal to be of any use.
func runBackup(args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	data := fs.String("data", "", "data directory of the installation (required)")
	storeURL := fs.String("store", os.Getenv("RAMPART_STORE"), "postgres://… URL of the installation's store (env RAMPART_STORE)")
	out := fs.String("out", "", "backup file to write (required; written whole or not at all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" || *out == "" {
		return errors.New("backup: --data DIR and --out FILE are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stats, err := app.BackupFile(ctx, *data, *storeURL, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "rampart: backed up installation %s (%d entries, %d audit events) to %s\n", stats.InstallationID, stats.Entries, stats.AuditEvents, *out)
	switch {
	case stats.Seal == "keyfile":
		fmt.Fprintf(os.Stderr, "rampart: the backup does not hold the seal: keep %s safe, apart from it; restoring needs it\n", filepath.Join(*data, app.KeyFileName))
	case stats.Seal == "pkcs11" && stats.PKCS11 != nil:
		fmt.Fprintf(os.Stderr, "rampart: the backup does not hold the seal: restoring needs the PKCS#11 token %s holding the key %q, and its user PIN\n", p11Token(stats.PKCS11), stats.PKCS11.KeyLabel)
	default:
		fmt.Fprintln(os.Stderr, "rampart: the backup does not hold the seal: restoring needs the installation's passphrase")
	}
	return nil
}

// runRestore serves `rampart restore`: a new data directory (and store)
// holding the installation of a backup.
func runRestore(args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	in := fs.String("in", "", "backup file made by rampart backup (required)")
	data := fs.String("data", "", "new data directory (required; must hold no installation)")
	storeURL := fs.String("store", os.Getenv("RAMPART_STORE"), "postgres://… URL of an empty store to restore into; default SQLite in the data directory (env RAMPART_STORE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *data == "" {
		return errors.New("restore: --in FILE and --data DIR are required")
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stats, err := app.Restore(ctx, f, *data, *storeURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "rampart: restored installation %s (%d entries, %d audit events) into %s\n", stats.InstallationID, stats.Entries, stats.AuditEvents, *data)
	switch {
	case stats.SealMissing:
		fmt.Fprintf(os.Stderr, "rampart: now copy the installation's %s into %s (the backup does not hold it), then: rampart server --data %s\n", app.KeyFileName, *data, *data)
	case stats.Seal == "passphrase":
		fmt.Fprintf(os.Stderr, "rampart: start it with the installation's passphrase: rampart server --data %s\n", *data)
	case stats.Seal == "pkcs11" && stats.SealChecked:
		fmt.Fprintf(os.Stderr, "rampart: the PKCS#11 key %q opens its root key; start it with %s set: rampart server --data %s\n", stats.PKCS11.KeyLabel, app.PKCS11PINEnv, *data)
	case stats.Seal == "pkcs11" && stats.PKCS11 != nil:
		fmt.Fprintf(os.Stderr, "rampart: its root key opens only with the key %q of the PKCS#11 token %s: start it where that token is, with its user PIN in %s: rampart server --data %s\n", stats.PKCS11.KeyLabel, p11Token(stats.PKCS11), app.PKCS11PINEnv, *data)
	default:
		fmt.Fprintf(os.Stderr, "rampart: %s opens its root key; start it with: rampart server --data %s\n", app.KeyFileName, *data)
	}
	return nil
}

// p11Token names a pkcs11 installation's token for messages.
func p11Token(p *app.PKCS11) string {
	if p.Token == "" && p.Slot != nil {
		return fmt.Sprintf("in slot %d of %s", *p.Slot, p.Module)
	}
	return fmt.Sprintf("%q (%s)", p.Token, p.Module)
}
