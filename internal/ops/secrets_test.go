package ops

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSecretsLifecycle(t *testing.T) {
	w := newWorld(t)
	w.spec.Service.Secrets = []string{"ADMIN_TOKEN", "DB_KEY"}
	ctx := testCtx(t)
	const value = "tok-9f8e7d6c5b4a"

	missing, err := MissingSecrets(ctx, w.clients.SSM, w.spec)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(missing, []string{"ADMIN_TOKEN", "DB_KEY"}) {
		t.Fatalf("missing = %v", missing)
	}
	v, err := SetSecret(ctx, w.clients.SSM, w.spec, "ADMIN_TOKEN", value)
	if err != nil || v != 1 {
		t.Fatalf("set = %d, %v", v, err)
	}
	if v, err = SetSecret(ctx, w.clients.SSM, w.spec, "ADMIN_TOKEN", value+"2"); err != nil || v != 2 {
		t.Fatalf("overwrite = %d, %v", v, err)
	}
	p, ok := w.SSM.Parameter("/lowfare/links/dev/ADMIN_TOKEN")
	if !ok || p.Type != "SecureString" || p.Value != value+"2" {
		t.Fatalf("stored = %+v", p)
	}
	w.SSM.Set("/lowfare/links/dev/EXTRA", "SecureString", "x")
	w.SSM.Set("/lowfare/links/prod/ADMIN_TOKEN", "SecureString", "other env")
	w.SSM.Set("/lowfare/links/dev/nested/DEEP", "SecureString", "deeper")

	missing, err = MissingSecrets(ctx, w.clients.SSM, w.spec)
	if err != nil || !slices.Equal(missing, []string{"DB_KEY"}) {
		t.Fatalf("missing = %v, %v", missing, err)
	}
	list, err := ListSecrets(ctx, w.clients.SSM, w.spec)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range list {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"ADMIN_TOKEN", "EXTRA"}) {
		t.Fatalf("listed %v, want this env's own level only", names)
	}
	if list[0].Version != 2 || !list[0].InSpec || list[1].InSpec || list[0].LastModified.IsZero() {
		t.Fatalf("list = %+v", list)
	}
	if err := DeleteSecret(ctx, w.clients.SSM, w.spec, "EXTRA"); err != nil {
		t.Fatal(err)
	}
	if err := DeleteSecret(ctx, w.clients.SSM, w.spec, "EXTRA"); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if w.SSM.DecryptRequests() != 0 {
		t.Fatal("a secrets operation asked SSM to decrypt")
	}
}

func TestMissingSecretsBatches(t *testing.T) {
	w := newWorld(t)
	w.spec.Service.Secrets = nil
	for i := range 23 {
		w.spec.Service.Secrets = append(w.spec.Service.Secrets, "S"+strings.Repeat("X", i))
	}
	w.SSM.Set(w.spec.SecretParameter("SXXXXXXXXXXXXXXX"), "SecureString", "v") // the 16th
	missing, err := MissingSecrets(testCtx(t), w.clients.SSM, w.spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 22 || slices.Contains(missing, "SXXXXXXXXXXXXXXX") {
		t.Fatalf("missing = %v", missing)
	}
	if n := w.SSM.CallCount("GetParameters"); n != 3 {
		t.Fatalf("GetParameters calls = %d, want 3 batches of at most 10", n)
	}
}

func TestSecretInputChecks(t *testing.T) {
	w := newWorld(t)
	for _, name := range []string{"", "has space", "a/b", "1ABC", "x-y", strings.Repeat("A", 129)} {
		if err := ValidateSecretName(name); err == nil {
			t.Errorf("ValidateSecretName(%q) accepted", name)
		}
		if _, err := SetSecret(testCtx(t), w.clients.SSM, w.spec, name, "v"); err == nil {
			t.Errorf("SetSecret(%q) accepted", name)
		}
	}
	for _, name := range []string{"ADMIN_TOKEN", "_x", "a1"} {
		if err := ValidateSecretName(name); err != nil {
			t.Errorf("ValidateSecretName(%q): %v", name, err)
		}
	}
	const big = 5000
	_, err := SetSecret(testCtx(t), w.clients.SSM, w.spec, "BIG", strings.Repeat("v", big))
	if err == nil || strings.Contains(err.Error(), "vvvv") {
		t.Fatalf("oversized value: %v", err)
	}
	if _, err := SetSecret(testCtx(t), w.clients.SSM, w.spec, "EMPTY", ""); err == nil {
		t.Fatal("empty value accepted")
	}
	if len(w.SSM.Calls()) != 0 {
		t.Fatalf("invalid input reached SSM: %v", w.SSM.Calls())
	}
}

func FuzzValidateSecretName(f *testing.F) {
	for _, s := range []string{"ADMIN_TOKEN", "a/b", "", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateSecretName(name) != nil {
			return
		}
		// An accepted name must be a single SSM path segment and a valid
		// environment variable name.
		if strings.ContainsAny(name, "/ =") || len(name) == 0 || len(name) > 128 || (name[0] >= '0' && name[0] <= '9') {
			t.Fatalf("accepted %q", name)
		}
	})
}
