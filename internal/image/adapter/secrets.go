package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Secrets on Lambda. ECS injects the spec's secrets as environment
// variables from SSM itself; Lambda cannot (its Environment takes only
// plain values), so the stack passes the names (LOWFARE_SECRETS, comma
// separated) and their SSM path (SSM_PARAMETER_PREFIX), and the adapter
// reads them once at init with the function's role and hands them to the
// app as environment variables: the app contract is the same on every
// profile. Values never appear in a log line or an error.
const (
	envSecretNames  = "LOWFARE_SECRETS"
	envSecretPrefix = "SSM_PARAMETER_PREFIX"
)

// getParametersMax is SSM GetParameters' limit on names per call.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
const getParametersMax = 10

// secretsTimeout bounds reading every secret at init.
const secretsTimeout = 10 * time.Second

// secretEnv returns NAME=value for each secret the stack named, read from
// SSM Parameter Store with decryption. Any secret missing fails init, as
// ECS fails a task whose secret is missing.
func secretEnv(ctx context.Context, environ []string, client *http.Client) ([]string, error) {
	list := lookup(environ, envSecretNames)
	if list == "" {
		return nil, nil
	}
	prefix := lookup(environ, envSecretPrefix)
	var names []string
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, secretsTimeout)
	defer cancel()
	ssm, err := newSSMClient(environ, client)
	if err != nil {
		return nil, err
	}
	var env []string
	for i := 0; i < len(names); i += getParametersMax {
		batch := names[i:min(i+getParametersMax, len(names))]
		full := make([]string, len(batch))
		for j, n := range batch {
			full[j] = prefix + n
		}
		values, err := ssm.getParameters(ctx, full)
		if err != nil {
			return nil, err
		}
		for j, n := range batch {
			v, ok := values[full[j]]
			if !ok {
				return nil, fmt.Errorf("secret %s (SSM parameter %s) is not set: set it with lowfare secrets set %s", n, full[j], n)
			}
			env = append(env, n+"="+v)
		}
	}
	return env, nil
}

// ssmClient calls SSM's JSON API, signed with Signature Version 4 from the
// credentials Lambda puts in the environment. The standard library only,
// so the adapter stays small (the SDK would add megabytes).
type ssmClient struct {
	endpoint, region   string
	key, secret, token string
	http               *http.Client
	now                func() time.Time
}

func newSSMClient(environ []string, client *http.Client) (*ssmClient, error) {
	c := &ssmClient{
		region: lookup(environ, "AWS_REGION"),
		key:    lookup(environ, "AWS_ACCESS_KEY_ID"),
		secret: lookup(environ, "AWS_SECRET_ACCESS_KEY"),
		token:  lookup(environ, "AWS_SESSION_TOKEN"),
		http:   client,
		now:    time.Now,
	}
	if c.region == "" || c.key == "" || c.secret == "" {
		return nil, fmt.Errorf("reading secrets needs AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which Lambda sets")
	}
	// The SDK's own endpoint variables, so tests and local emulators work
	// as with any SDK client.
	c.endpoint = lookup(environ, "AWS_ENDPOINT_URL_SSM")
	if c.endpoint == "" {
		c.endpoint = lookup(environ, "AWS_ENDPOINT_URL")
	}
	if c.endpoint == "" {
		host := "ssm." + c.region + ".amazonaws.com"
		if strings.HasPrefix(c.region, "cn-") {
			host += ".cn"
		}
		c.endpoint = "https://" + host
	}
	c.endpoint = strings.TrimSuffix(c.endpoint, "/")
	return c, nil
}

// getParameters returns name -> decrypted value for the names that exist.
func (c *ssmClient) getParameters(ctx context.Context, names []string) (map[string]string, error) {
	body, err := json.Marshal(map[string]any{"Names": names, "WithDecryption": true})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("SSM endpoint %s: %w", c.endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameters")
	c.sign(req, body, c.now().UTC())
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading secrets from SSM: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("reading secrets from SSM: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		return nil, fmt.Errorf("reading secrets from SSM: %s %s %s", resp.Status, e.Type, e.Message)
	}
	var out struct {
		Parameters []struct{ Name, Value string }
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("reading secrets from SSM: the answer is not GetParameters JSON: %w", err)
	}
	values := make(map[string]string, len(out.Parameters))
	for _, p := range out.Parameters {
		values[p.Name] = p.Value
	}
	return values, nil
}

// sign adds Signature Version 4 headers for service ssm.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
func (c *ssmClient) sign(req *http.Request, body []byte, t time.Time) {
	amzDate := t.Format("20060102T150405Z")
	day := t.Format("20060102")
	req.Header.Set("X-Amz-Date", amzDate)
	if c.token != "" {
		req.Header.Set("X-Amz-Security-Token", c.token)
	}
	payload := sha256Hex(body)
	// The SDK signs Content-Length too; net/http sends it from the body.
	headers := map[string]string{"host": req.URL.Host, "content-length": strconv.Itoa(len(body))}
	for k, v := range req.Header {
		headers[strings.ToLower(k)] = strings.TrimSpace(strings.Join(v, ","))
	}
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var canonHeaders strings.Builder
	for _, k := range keys {
		canonHeaders.WriteString(k + ":" + headers[k] + "\n")
	}
	signed := strings.Join(keys, ";")
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canonical := strings.Join([]string{req.Method, path, req.URL.RawQuery, canonHeaders.String(), signed, payload}, "\n")
	scope := day + "/" + c.region + "/ssm/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	k := hmacSHA256([]byte("AWS4"+c.secret), day)
	k = hmacSHA256(k, c.region)
	k = hmacSHA256(k, "ssm")
	k = hmacSHA256(k, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(k, toSign))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+c.key+"/"+scope+", SignedHeaders="+signed+", Signature="+sig)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
