package ci

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"text/template"
)

// WorkflowPath is where 'lowfare ci init github' writes the workflow.
const WorkflowPath = ".github/workflows/lowfare.yml"

// The actions the workflow uses, pinned by commit SHA (a tag can be moved
// to other code; a commit cannot). The SHAs are the release commits of
// the tags in the comments, as thousands of public workflows pin them
// (looked up in public repositories' workflows, since this machine cannot
// reach github.com); 'lowfare ci init --force' after an update writes
// newer ones.
const (
	actionCheckout = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
	actionSetupGo  = "actions/setup-go@d35c59abb061a4a6fb18e82ac0862c26744d6ab5 # v5.5.0"
	actionAWSCreds = "aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502 # v4.0.2"
)

// WorkflowOptions are what the workflow runs.
type WorkflowOptions struct {
	Options
	App    string // the spec's app
	Region string // the spec's region
	// Spec is the spec file's path relative to the repository root.
	Spec string
	// Test is the shell command that tests the code before a deploy; empty
	// for none.
	Test string
	// Secrets are the spec's service.secrets: each preview gets them from
	// the repository's Actions secrets of the same names.
	Secrets []string
	// GoMod is whether the repository's root holds go.mod: setup-go then
	// takes its Go version from it, else the latest stable Go.
	GoMod bool
	// Install is the lowfare module version CI installs (go install
	// github.com/lowfare/lowfare/cmd/lowfare@Install).
	Install string
}

// headerPrefix starts the workflow's first line, which carries the hash of
// everything below it: lowfare replaces a workflow only while the hash
// still matches (nobody edited it) or with --force.
const headerPrefix = "# Written by lowfare ci init; sha256:"

// Workflow returns the workflow's text, its first line the header with
// the hash of the rest.
func Workflow(o WorkflowOptions) ([]byte, error) {
	if err := o.Options.Check(); err != nil {
		return nil, err
	}
	if strings.ContainsAny(o.Test, "\n\r") {
		return nil, fmt.Errorf("--test %q: one command line, please (a script file can hold more)", o.Test)
	}
	var body bytes.Buffer
	if err := workflowTemplate.Execute(&body, o); err != nil {
		return nil, err
	}
	return append([]byte(header(body.Bytes())), body.Bytes()...), nil
}

func header(body []byte) string {
	sum := sha256.Sum256(body)
	return headerPrefix + hex.EncodeToString(sum[:]) + " (edit freely: lowfare then leaves this file alone unless --force)\n"
}

// ErrEdited is a workflow someone changed since lowfare wrote it (or that
// lowfare did not write).
var ErrEdited = errors.New("edited since lowfare wrote it")

// Unedited reports whether existing is a workflow lowfare wrote and nobody
// changed since: its header's hash matches the rest.
func Unedited(existing []byte) bool {
	first, rest, ok := bytes.Cut(existing, []byte("\n"))
	if !ok || !bytes.HasPrefix(first, []byte(headerPrefix)) {
		return false
	}
	return string(first)+"\n" == header(rest)
}

// Role ARNs as the workflow writes them: the account comes from the
// repository variable AWS_ACCOUNT_ID, so the workflow holds no account
// number and no secret.
func (o WorkflowOptions) DeployRoleARN() string {
	return "arn:aws:iam::${{ vars.AWS_ACCOUNT_ID }}:role/" + DeployRoleName(o.App)
}

func (o WorkflowOptions) ServiceRoleARN() string {
	return "arn:aws:iam::${{ vars.AWS_ACCOUNT_ID }}:role/" + ServiceRoleName(o.App)
}

// BoundaryARN is the permissions boundary every role of the app gets
// when CI deploys it: the service role may create roles only with it.
func (o WorkflowOptions) BoundaryARN() string {
	return "arn:aws:iam::${{ vars.AWS_ACCOUNT_ID }}:policy/" + BoundaryPolicyName(o.App)
}

// Quote is a string as a YAML single-quoted scalar (a ' doubled).
func (WorkflowOptions) Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// workflowTemplate is the workflow; "setup" (checkout, Go) and "login"
// (lowfare, the deploy role's credentials) are the steps every job that
// touches AWS begins with.
var workflowTemplate = template.Must(template.New("workflow").Parse(`# lowfare deploys {{.App}} from GitHub Actions with no stored keys: each job
# gets short-lived credentials from AWS STS through GitHub's OIDC token
# (role {{.DeployRoleARN}}, created by 'lowfare ci deploy'); set the
# repository variable AWS_ACCOUNT_ID to the account's ID.
name: lowfare

on:
  push:
    branches: [{{.Branch}}]
{{- if .Previews}}
  pull_request:
    types: [opened, synchronize, reopened, closed]
{{- end}}

# Nothing by default; each job asks for what it needs.
permissions: {}

env:
  AWS_REGION: {{.Region}}
  LOWFARE_SPEC: {{.Quote .Spec}}

jobs:
  deploy:
    if: github.event_name == 'push'
    runs-on: ubuntu-latest
{{- if .Environment}}
    # The role trusts this environment's token (sub ...:environment:{{.Environment}}).
    environment: {{.Quote .Environment}}
{{- end}}
    permissions:
      id-token: write
      contents: read
    # One deploy at a time; a newer push waits for the running one.
    concurrency:
      group: lowfare-deploy-{{.Branch}}
      cancel-in-progress: false
    steps:
{{template "setup" .}}
{{- if .Test}}
      - name: Test
        run: |
          {{.Test}}
{{- end}}
{{template "login" .}}
      - name: Plan
        run: lowfare plan --check -f "$LOWFARE_SPEC"
      - name: Deploy
        run: lowfare deploy -f "$LOWFARE_SPEC" --cfn-role-arn "{{.ServiceRoleARN}}" --permissions-boundary "{{.BoundaryARN}}"
{{- if .Previews}}

  preview:
    # Pull requests from forks get no OIDC token: previews are for branches
    # of this repository.
    if: github.event_name == 'pull_request' && github.event.action != 'closed' && github.event.pull_request.head.repo.full_name == github.repository
    runs-on: ubuntu-latest
    permissions:
      id-token: write
      contents: read
    concurrency:
      group: lowfare-preview-${{"{{"}} github.event.pull_request.number {{"}}"}}
      cancel-in-progress: false
    env:
      PREVIEW_ENV: pr-${{"{{"}} github.event.pull_request.number {{"}}"}}
    outputs:
      url: ${{"{{"}} steps.report.outputs.url {{"}}"}}
      cost: ${{"{{"}} steps.report.outputs.cost {{"}}"}}
    steps:
{{template "setup" .}}
{{- if .Test}}
      - name: Test
        run: |
          {{.Test}}
{{- end}}
{{template "login" .}}
{{- range .Secrets}}
      - name: Preview secret {{.}}
        env:
          VALUE: ${{"{{"}} secrets.{{.}} {{"}}"}}
        run: printf '%s' "$VALUE" | lowfare secrets set {{.}} -f "$LOWFARE_SPEC" --env "$PREVIEW_ENV" --preview
{{- end}}
      - name: Deploy the preview
        run: lowfare deploy -f "$LOWFARE_SPEC" --env "$PREVIEW_ENV" --preview --cfn-role-arn "{{.ServiceRoleARN}}" --permissions-boundary "{{.BoundaryARN}}"
      - name: URL and monthly cost
        id: report
        run: |
          url=$(lowfare status -f "$LOWFARE_SPEC" --env "$PREVIEW_ENV" --preview --format json | jq -r '.url // ""')
          cost=$(lowfare cost -f "$LOWFARE_SPEC" --env "$PREVIEW_ENV" --preview --format json | jq -r '.total_usd')
          echo "url=$url" >> "$GITHUB_OUTPUT"
          echo "cost=$cost" >> "$GITHUB_OUTPUT"

  comment:
    needs: preview
    runs-on: ubuntu-latest
    # The only job that may write to the pull request; it holds no AWS
    # credentials.
    permissions:
      pull-requests: write
    steps:
      - name: Comment the URL and the estimate
        env:
          GH_TOKEN: ${{"{{"}} github.token {{"}}"}}
          PR: ${{"{{"}} github.event.pull_request.number {{"}}"}}
          URL: ${{"{{"}} needs.preview.outputs.url {{"}}"}}
          COST: ${{"{{"}} needs.preview.outputs.cost {{"}}"}}
        run: |
          printf 'Preview environment pr-%s: %s\n\nEstimated cost: $%s a month (lowfare cost --preview: HTTP API, idle sleep, on-demand table). It is destroyed with its data when this pull request closes.\n' "$PR" "${URL:-the URL is in the deploy log}" "$COST" > comment.md
          gh pr comment "$PR" --repo "$GITHUB_REPOSITORY" --body-file comment.md

  close:
    if: github.event_name == 'pull_request' && github.event.action == 'closed' && github.event.pull_request.head.repo.full_name == github.repository
    runs-on: ubuntu-latest
    permissions:
      id-token: write
      contents: read
    concurrency:
      group: lowfare-preview-${{"{{"}} github.event.pull_request.number {{"}}"}}
      cancel-in-progress: false
    env:
      PREVIEW_ENV: pr-${{"{{"}} github.event.pull_request.number {{"}}"}}
    steps:
{{template "setup" .}}
{{template "login" .}}
      - name: Destroy the preview and its data
        run: lowfare destroy -f "$LOWFARE_SPEC" --env "$PREVIEW_ENV" --preview --yes --delete-data --cfn-role-arn "{{.ServiceRoleARN}}"
{{- range .Secrets}}
      - name: Remove preview secret {{.}}
        run: lowfare secrets rm {{.}} -f "$LOWFARE_SPEC" --env "$PREVIEW_ENV" --preview
{{- end}}
{{- end}}
{{- define "setup"}}      - uses: {{.Checkout}}
        with:
          persist-credentials: false
      - uses: {{.SetupGo}}
        with:
          {{.GoVersion}}
{{- end}}
{{- define "login"}}      - name: Install lowfare
        run: go install github.com/lowfare/lowfare/cmd/lowfare@{{.Install}}
      - uses: {{.AWSCreds}}
        with:
          role-to-assume: {{.DeployRoleARN}}
          aws-region: {{.Region}}
{{- end}}
`))

// GoVersion is setup-go's input line.
func (o WorkflowOptions) GoVersion() string {
	if o.GoMod {
		return "go-version-file: go.mod"
	}
	return "go-version: stable"
}

// Checkout, SetupGo and AWSCreds are the pinned actions, for the template.
func (WorkflowOptions) Checkout() string { return actionCheckout }
func (WorkflowOptions) SetupGo() string  { return actionSetupGo }
func (WorkflowOptions) AWSCreds() string { return actionAWSCreds }
