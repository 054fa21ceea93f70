package awsfake

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SSMParameter is one stored parameter.
type SSMParameter struct {
	Name         string
	Type         string
	Value        string
	Version      int64
	LastModified time.Time
}

// SSM is a Parameter Store fake (awsJson 1.1): PutParameter, GetParameters,
// GetParameter, DescribeParameters, DeleteParameter. It remembers whether
// any request asked for decrypted values, so tests can prove a command
// never did.
type SSM struct {
	*JSONService

	// Now stamps LastModifiedDate; time.Now when nil.
	Now func() time.Time

	mu        sync.Mutex
	params    map[string]*SSMParameter
	decrypted int
}

// NewSSM returns an empty Parameter Store.
func NewSSM() *SSM {
	f := &SSM{params: map[string]*SSMParameter{}}
	f.JSONService = &JSONService{TargetPrefix: "AmazonSSM", Version: "1.1", Ops: map[string]JSONOp{
		"PutParameter":       Handle(f.put),
		"GetParameters":      Handle(f.getParameters),
		"GetParameter":       Handle(f.getParameter),
		"DescribeParameters": Handle(f.describe),
		"DeleteParameter":    Handle(f.delete),
	}}
	return f
}

// Parameter returns a stored parameter (a copy) and whether it exists.
func (f *SSM) Parameter(name string) (SSMParameter, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.params[name]
	if !ok {
		return SSMParameter{}, false
	}
	return *p, true
}

// Set stores a parameter directly, as if put by someone else.
func (f *SSM) Set(name, typ, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.store(name, typ, value)
}

// DecryptRequests counts requests that set WithDecryption.
func (f *SSM) DecryptRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.decrypted
}

func (f *SSM) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *SSM) store(name, typ, value string) *SSMParameter {
	p, ok := f.params[name]
	if !ok {
		p = &SSMParameter{Name: name}
		f.params[name] = p
	}
	p.Type, p.Value = typ, value
	p.Version++
	p.LastModified = f.now().UTC()
	return p
}

type ssmParameterJSON struct {
	Name             string  `json:"Name"`
	Type             string  `json:"Type"`
	Value            string  `json:"Value,omitempty"`
	Version          int64   `json:"Version"`
	LastModifiedDate float64 `json:"LastModifiedDate"`
	ARN              string  `json:"ARN,omitempty"`
	DataType         string  `json:"DataType"`
	Tier             string  `json:"Tier,omitempty"`
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (p *SSMParameter) json(withValue, decrypt bool) ssmParameterJSON {
	out := ssmParameterJSON{
		Name: p.Name, Type: p.Type, Version: p.Version,
		LastModifiedDate: epoch(p.LastModified),
		ARN:              "arn:aws:ssm:us-east-1:123456789012:parameter" + p.Name,
		DataType:         "text",
	}
	if withValue {
		out.Value = p.Value
		if p.Type == "SecureString" && !decrypt {
			// The real service returns the ciphertext; never the plain value.
			out.Value = "AQICAHfakeciphertext"
		}
	}
	return out
}

// validSSMName follows the documented rules closely enough for tests.
func validSSMName(name string) error {
	if name == "" || len(name) > 1011 {
		return Errorf("ValidationException", "parameter name must be 1-1011 characters")
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.-/", r)
		if !ok {
			return Errorf("ValidationException", "parameter name %q contains %q", name, r)
		}
	}
	if strings.Contains(name, "/") && !strings.HasPrefix(name, "/") {
		return Errorf("ValidationException", "parameter name %q: a hierarchy must begin with /", name)
	}
	return nil
}

func (f *SSM) put(in struct {
	Name      string
	Value     string
	Type      string
	Overwrite bool
}) (any, error) {
	if err := validSSMName(in.Name); err != nil {
		return nil, err
	}
	if in.Value == "" {
		return nil, Errorf("ValidationException", "Value must not be empty")
	}
	switch in.Type {
	case "", "String", "StringList", "SecureString":
	default:
		return nil, Errorf("ValidationException", "Type %q is not String, StringList or SecureString", in.Type)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old, exists := f.params[in.Name]
	if exists && !in.Overwrite {
		return nil, Errorf("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}
	typ := in.Type
	if typ == "" {
		if !exists {
			return nil, Errorf("ValidationException", "Type is required for a new parameter")
		}
		typ = old.Type
	}
	p := f.store(in.Name, typ, in.Value)
	return map[string]any{"Version": p.Version, "Tier": "Standard"}, nil
}

func (f *SSM) getParameters(in struct {
	Names          []string
	WithDecryption bool
}) (any, error) {
	if len(in.Names) == 0 || len(in.Names) > 10 {
		return nil, Errorf("ValidationException", "Names must hold 1-10 names, got %d", len(in.Names))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.WithDecryption {
		f.decrypted++
	}
	out := struct {
		Parameters        []ssmParameterJSON
		InvalidParameters []string
	}{Parameters: []ssmParameterJSON{}, InvalidParameters: []string{}}
	for _, n := range in.Names {
		if p, ok := f.params[n]; ok {
			out.Parameters = append(out.Parameters, p.json(true, in.WithDecryption))
		} else {
			out.InvalidParameters = append(out.InvalidParameters, n)
		}
	}
	return out, nil
}

func (f *SSM) getParameter(in struct {
	Name           string
	WithDecryption bool
}) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.WithDecryption {
		f.decrypted++
	}
	p, ok := f.params[in.Name]
	if !ok {
		return nil, Errorf("ParameterNotFound", "Parameter %s not found.", in.Name)
	}
	return map[string]any{"Parameter": p.json(true, in.WithDecryption)}, nil
}

type ssmFilter struct {
	Key    string
	Option string
	Values []string
}

func (flt ssmFilter) match(name string) (bool, error) {
	switch flt.Key {
	case "Path":
		for _, v := range flt.Values {
			prefix := strings.TrimSuffix(v, "/") + "/"
			rest, ok := strings.CutPrefix(name, prefix)
			if !ok {
				continue
			}
			if flt.Option == "Recursive" || !strings.Contains(rest, "/") {
				return true, nil
			}
		}
		return false, nil
	case "Name":
		for _, v := range flt.Values {
			switch flt.Option {
			case "BeginsWith":
				if strings.HasPrefix(name, v) {
					return true, nil
				}
			case "", "Equals":
				if name == v {
					return true, nil
				}
			case "Contains":
				if strings.Contains(name, v) {
					return true, nil
				}
			}
		}
		return false, nil
	}
	return false, Errorf("InvalidFilterKey", "filter key %q is not supported by this fake", flt.Key)
}

func (f *SSM) describe(in struct {
	ParameterFilters []ssmFilter
	MaxResults       int
	NextToken        string
}) (any, error) {
	max := in.MaxResults
	if max == 0 {
		max = 10
	}
	if max < 1 || max > 50 {
		return nil, Errorf("ValidationException", "MaxResults must be 1-50")
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 {
			return nil, Errorf("InvalidNextToken", "bad token %q", in.NextToken)
		}
		start = n
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for name := range f.params {
		keep := true
		for _, flt := range in.ParameterFilters {
			ok, err := flt.match(name)
			if err != nil {
				return nil, err
			}
			keep = keep && ok
		}
		if keep {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := struct {
		Parameters []ssmParameterJSON
		NextToken  string `json:",omitempty"`
	}{Parameters: []ssmParameterJSON{}}
	for i := start; i < len(names) && i < start+max; i++ {
		pj := f.params[names[i]].json(false, false)
		pj.Tier = "Standard"
		out.Parameters = append(out.Parameters, pj)
	}
	if start+max < len(names) {
		out.NextToken = fmt.Sprint(start + max)
	}
	return out, nil
}

func (f *SSM) delete(in struct{ Name string }) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.params[in.Name]; !ok {
		return nil, Errorf("ParameterNotFound", "Parameter %s not found.", in.Name)
	}
	delete(f.params, in.Name)
	return struct{}{}, nil
}
