package devstack

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// av is one attribute value in DynamoDB's JSON form: exactly one field is
// set. Pointers to slices and maps keep an empty list or map (valid in
// DynamoDB) apart from an absent field.
type av struct {
	S    *string         `json:"S,omitempty"`
	N    *string         `json:"N,omitempty"`
	B    *[]byte         `json:"B,omitempty"`
	BOOL *bool           `json:"BOOL,omitempty"`
	NULL *bool           `json:"NULL,omitempty"`
	SS   []string        `json:"SS,omitempty"`
	NS   []string        `json:"NS,omitempty"`
	BS   [][]byte        `json:"BS,omitempty"`
	M    *map[string]*av `json:"M,omitempty"`
	L    *[]*av          `json:"L,omitempty"`
}

// maxDepth is DynamoDB's nesting limit for documents.
const maxDepth = 32

func encodeItem(item map[string]types.AttributeValue) (map[string]*av, error) {
	out := make(map[string]*av, len(item))
	for k, v := range item {
		e, err := encodeAV(v, 0)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = e
	}
	return out, nil
}

func encodeAV(v types.AttributeValue, depth int) (*av, error) {
	if depth > maxDepth {
		return nil, errors.New("nested deeper than 32 levels")
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return &av{S: &v.Value}, nil
	case *types.AttributeValueMemberN:
		return &av{N: &v.Value}, nil
	case *types.AttributeValueMemberB:
		b := slices.Clone(v.Value)
		return &av{B: &b}, nil
	case *types.AttributeValueMemberBOOL:
		return &av{BOOL: &v.Value}, nil
	case *types.AttributeValueMemberNULL:
		t := true
		return &av{NULL: &t}, nil
	case *types.AttributeValueMemberSS:
		return &av{SS: slices.Sorted(slices.Values(v.Value))}, nil
	case *types.AttributeValueMemberNS:
		return &av{NS: slices.Sorted(slices.Values(v.Value))}, nil
	case *types.AttributeValueMemberBS:
		bs := slices.Clone(v.Value)
		slices.SortFunc(bs, func(a, b []byte) int { return strings.Compare(string(a), string(b)) })
		return &av{BS: bs}, nil
	case *types.AttributeValueMemberM:
		m := make(map[string]*av, len(v.Value))
		for k, x := range v.Value {
			e, err := encodeAV(x, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = e
		}
		return &av{M: &m}, nil
	case *types.AttributeValueMemberL:
		l := make([]*av, 0, len(v.Value))
		for _, x := range v.Value {
			e, err := encodeAV(x, depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, e)
		}
		return &av{L: &l}, nil
	default:
		return nil, fmt.Errorf("unsupported attribute value %T", v)
	}
}

func decodeItem(m map[string]*av) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		if k == "" {
			return nil, errors.New("empty attribute name")
		}
		d, err := decodeAV(v, 0)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = d
	}
	return out, nil
}

func decodeAV(v *av, depth int) (types.AttributeValue, error) {
	if v == nil {
		return nil, errors.New("null attribute value")
	}
	if depth > maxDepth {
		return nil, errors.New("nested deeper than 32 levels")
	}
	set := 0
	for _, present := range []bool{v.S != nil, v.N != nil, v.B != nil, v.BOOL != nil, v.NULL != nil,
		v.SS != nil, v.NS != nil, v.BS != nil, v.M != nil, v.L != nil} {
		if present {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("an attribute value needs exactly one type, has %d", set)
	}
	if (v.SS != nil && len(v.SS) == 0) || (v.NS != nil && len(v.NS) == 0) || (v.BS != nil && len(v.BS) == 0) {
		return nil, errors.New("a set cannot be empty")
	}
	switch {
	case v.S != nil:
		return &types.AttributeValueMemberS{Value: *v.S}, nil
	case v.N != nil:
		return &types.AttributeValueMemberN{Value: *v.N}, nil
	case v.B != nil:
		return &types.AttributeValueMemberB{Value: *v.B}, nil
	case v.BOOL != nil:
		return &types.AttributeValueMemberBOOL{Value: *v.BOOL}, nil
	case v.NULL != nil:
		if !*v.NULL {
			return nil, errors.New(`NULL must be true`)
		}
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case v.SS != nil:
		return &types.AttributeValueMemberSS{Value: v.SS}, nil
	case v.NS != nil:
		return &types.AttributeValueMemberNS{Value: v.NS}, nil
	case v.BS != nil:
		return &types.AttributeValueMemberBS{Value: v.BS}, nil
	case v.M != nil:
		m := make(map[string]types.AttributeValue, len(*v.M))
		for k, x := range *v.M {
			d, err := decodeAV(x, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = d
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	default:
		l := make([]types.AttributeValue, 0, len(*v.L))
		for _, x := range *v.L {
			d, err := decodeAV(x, depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, d)
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	}
}

// sortKey orders items in a snapshot by a key attribute (S, N or B).
func (v *av) sortKey() string {
	switch {
	case v == nil:
		return ""
	case v.S != nil:
		return *v.S
	case v.N != nil:
		return *v.N
	case v.B != nil:
		return string(*v.B)
	}
	return ""
}
