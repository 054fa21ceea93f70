package cfn

import (
	"maps"
	"slices"
)

// The intrinsic functions, in CloudFormation's JSON form. Each returns a
// value to put wherever a property value goes.

// Ref is {"Ref": name}: a parameter's value or a resource's primary ID.
func Ref(name string) any { return map[string]any{"Ref": name} }

// GetAtt is {"Fn::GetAtt": [resource, attribute]}.
func GetAtt(resource, attribute string) any {
	return map[string]any{"Fn::GetAtt": []any{resource, attribute}}
}

// Sub is {"Fn::Sub": s}, with ${Name} and ${Resource.Attr} substituted.
func Sub(s string) any { return map[string]any{"Fn::Sub": s} }

// SubVars is Fn::Sub with explicit variables.
func SubVars(s string, vars map[string]any) any {
	return map[string]any{"Fn::Sub": []any{s, vars}}
}

// Join is {"Fn::Join": [sep, [parts...]]}.
func Join(sep string, parts ...any) any {
	return map[string]any{"Fn::Join": []any{sep, parts}}
}

// Select is {"Fn::Select": [index, list]}.
func Select(index int, list any) any {
	return map[string]any{"Fn::Select": []any{index, list}}
}

// FindInMap reads Mappings[mapName][topKey][secondKey]; topKey may be an
// intrinsic such as Ref(Region).
func FindInMap(mapName string, topKey any, secondKey string) any {
	return map[string]any{"Fn::FindInMap": []any{mapName, topKey, secondKey}}
}

// GetAZs is {"Fn::GetAZs": ""}: the Availability Zones of the stack's region.
func GetAZs() any { return map[string]any{"Fn::GetAZs": ""} }

// If is {"Fn::If": [condition, then, else]}.
func If(condition string, then, otherwise any) any {
	return map[string]any{"Fn::If": []any{condition, then, otherwise}}
}

// Equals is {"Fn::Equals": [a, b]}, for Conditions.
func Equals(a, b any) any { return map[string]any{"Fn::Equals": []any{a, b}} }

// Not is {"Fn::Not": [cond]}, for Conditions.
func Not(cond any) any { return map[string]any{"Fn::Not": []any{cond}} }

// Pseudo parameters.
const (
	AccountID = "AWS::AccountId"
	Partition = "AWS::Partition"
	Region    = "AWS::Region"
	StackName = "AWS::StackName"
	URLSuffix = "AWS::URLSuffix"
	NoValue   = "AWS::NoValue"
)

// IsIntrinsic reports whether v is an intrinsic function object: a map with
// exactly one key that is "Ref", "Condition" or starts with "Fn::".
func IsIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || len(k) > 4 && k[:4] == "Fn::"
	}
	return false
}

// TagList is tags in the list form most resources take:
// [{"Key": k, "Value": v}], sorted by key.
func TagList(tags map[string]string) []any {
	keys := slices.Sorted(maps.Keys(tags))
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]any{"Key": k, "Value": tags[k]})
	}
	return out
}

// TagMap is tags in the map form some resources take (API Gateway v2, SSM).
func TagMap(tags map[string]string) map[string]any {
	out := make(map[string]any, len(tags))
	for k, v := range tags {
		out[k] = v
	}
	return out
}
