package main

import (
	"context"
	"fmt"
	"os"

	"keel/planner/planfile"
)

type approveCmd struct {
	File string `arg:"" help:"The plan file (keel plan --out)." type:"existingfile"`
	By   string `required:"" help:"Who approves."`
	Key  string `help:"Sign the approval with this private key (keel keygen)." type:"existingfile"`
}

func (c *approveCmd) Run(_ context.Context, s *streams) error {
	f, err := planfile.ReadFile(c.File)
	if err != nil {
		return err
	}
	var key []byte
	if c.Key != "" {
		k, err := planfile.ReadKey(c.Key)
		if err != nil {
			return err
		}
		key = k
	}
	if err := f.Approve(c.By, key); err != nil {
		return err
	}
	if err := f.Write(c.File); err != nil {
		return err
	}
	signed := "unsigned"
	if key != nil {
		signed = "signed"
	}
	fmt.Fprintf(s.out, "Approved %s (%s) by %s, %s.\n", c.File, f.Digest, c.By, signed)
	return nil
}

type keygenCmd struct {
	Out string `required:"" help:"Write the private key to this file (mode 0600) and the public key to FILE.pub."`
}

func (c *keygenCmd) Run(s *streams) error {
	pub, priv, err := planfile.GenerateKey()
	if err != nil {
		return err
	}
	if err := os.WriteFile(c.Out, []byte(priv+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing the private key: %w", err)
	}
	if err := os.WriteFile(c.Out+".pub", []byte(pub+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing the public key: %w", err)
	}
	fmt.Fprintf(s.out, "Private key: %s (keep it secret). Public key: %s.pub\nAdd it to the profile's approvers:\n  approvers = [%q]\n", c.Out, c.Out, pub)
	return nil
}
