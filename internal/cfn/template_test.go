package cfn

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

func sample() *Template {
	t := New("sample")
	t.Parameters["ImageUri"] = &Parameter{Type: "String", Description: "image"}
	t.Add("Bucket", &Resource{
		Type:           "AWS::S3::Bucket",
		DeletionPolicy: "Retain",
		Properties: Props{
			"Tags":        TagList(map[string]string{"b": "2", "a": "1"}),
			"BucketName":  Sub("${AWS::StackName}-data"),
			"Arn":         GetAtt("Other", "Arn"),
			"Zone":        Select(1, GetAZs()),
			"Joined":      Join(",", "x", Ref(Region)),
			"Maybe":       If("IsProd", "yes", Ref(NoValue)),
			"Policy":      "a<b&c",
			"Number":      8080,
			"StringNum":   "10",
			"Exp":         "1e3",
			"Hex":         "0x10",
			"Under":       "1_000",
			"Inf":         "inf",
			"Plain":       "hello",
			"BoolAsValue": true,
		},
	})
	t.Add("Other", &Resource{Type: "AWS::SNS::Topic", DependsOn: []string{"Bucket"}})
	t.Outputs["Name"] = &Output{Value: Ref("Bucket")}
	return t
}

func TestIntrinsicsJSONForm(t *testing.T) {
	cases := []struct {
		got  any
		want string
	}{
		{Ref("X"), `{"Ref":"X"}`},
		{GetAtt("R", "Arn"), `{"Fn::GetAtt":["R","Arn"]}`},
		{Sub("a-${AWS::Region}"), `{"Fn::Sub":"a-${AWS::Region}"}`},
		{SubVars("${A}", map[string]any{"A": Ref("B")}), `{"Fn::Sub":["${A}",{"A":{"Ref":"B"}}]}`},
		{Join("/", "a", Ref("B")), `{"Fn::Join":["/",["a",{"Ref":"B"}]]}`},
		{Select(0, GetAZs()), `{"Fn::Select":[0,{"Fn::GetAZs":""}]}`},
		{If("C", 1, Ref(NoValue)), `{"Fn::If":["C",1,{"Ref":"AWS::NoValue"}]}`},
		{Equals(Ref("P"), "x"), `{"Fn::Equals":[{"Ref":"P"},"x"]}`},
		{Not(Equals(1, 2)), `{"Fn::Not":[{"Fn::Equals":[1,2]}]}`},
		{TagList(map[string]string{"z": "1", "a": "2"}), `[{"Key":"a","Value":"2"},{"Key":"z","Value":"1"}]`},
		{TagMap(map[string]string{"z": "1"}), `{"z":"1"}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.got)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("got %s, want %s", b, c.want)
		}
	}
}

func TestIsIntrinsic(t *testing.T) {
	yes := []any{Ref("X"), GetAtt("A", "B"), Sub("x"), map[string]any{"Condition": "C"}}
	no := []any{"Ref", map[string]any{"Ref": "X", "Other": 1}, map[string]any{"Key": "v"}, []any{Ref("X")}, map[string]any{"Fn::": 1}}
	for _, v := range yes {
		if !IsIntrinsic(v) {
			t.Errorf("IsIntrinsic(%v) = false", v)
		}
	}
	for _, v := range no {
		if IsIntrinsic(v) {
			t.Errorf("IsIntrinsic(%v) = true", v)
		}
	}
}

func TestJSONIsDeterministicAndOrdered(t *testing.T) {
	a, err := sample().JSON()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		b, _ := sample().JSON()
		if string(a) != string(b) {
			t.Fatal("two marshals of the same template differ")
		}
	}
	s := string(a)
	order := []string{`"AWSTemplateFormatVersion": "2010-09-09"`, `"Description"`, `"Parameters"`, `"Resources"`, `"Outputs"`}
	last := -1
	for _, o := range order {
		i := strings.Index(s, o)
		if i < 0 || i < last {
			t.Fatalf("%s missing or out of order in\n%s", o, s)
		}
		last = i
	}
	if !strings.Contains(s, `"a<b&c"`) {
		t.Error("HTML characters were escaped")
	}
	if strings.Contains(s, `"Conditions"`) {
		t.Error("empty Conditions section written")
	}
	if !strings.HasSuffix(s, "}\n") {
		t.Error("no final newline")
	}
}

func TestYAMLRoundTripsToTheSameDocument(t *testing.T) {
	tmpl := sample()
	y, err := tmpl.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var fromYAML any
	if err := yaml.Unmarshal(y, &fromYAML); err != nil {
		t.Fatalf("YAML does not parse: %v\n%s", err, y)
	}
	generic, err := tmpl.Generic()
	if err != nil {
		t.Fatal(err)
	}
	// Compare through JSON so number types (int vs float64) do not matter.
	a, _ := json.Marshal(fromYAML)
	var back any
	_ = json.Unmarshal(a, &back)
	b1, _ := json.Marshal(back)
	b2, _ := json.Marshal(generic)
	if string(b1) != string(b2) {
		t.Errorf("YAML reads back differently:\n%s\n%s", b1, b2)
	}
	if !strings.HasPrefix(string(y), "AWSTemplateFormatVersion: \"2010-09-09\"") && !strings.HasPrefix(string(y), "AWSTemplateFormatVersion: 2010-09-09") {
		t.Errorf("YAML does not start with the format version:\n%s", y)
	}
	// A string that looks like a number must stay a string, for every
	// YAML reader (CloudFormation's takes 1e3 for a float).
	for _, want := range []string{`StringNum: "10"`, `Exp: "1e3"`, `Hex: "0x10"`, `Under: "1_000"`, `Inf: "inf"`, `Plain: hello`} {
		if !strings.Contains(string(y), want) {
			t.Errorf("want %s in:\n%s", want, y)
		}
	}
}

func TestAddRejectsDuplicatesAndBadIDs(t *testing.T) {
	for _, id := range []string{"Bucket", "bad-id", ""} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Add(%q) did not panic", id)
				}
			}()
			sample().Add(id, &Resource{Type: "AWS::SNS::Topic"})
		}()
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	var sb strings.Builder
	if err := sample().Write(&sb, "toml"); err == nil {
		t.Error("Write accepted format toml")
	}
	if err := sample().Write(&sb, FormatYAML); err != nil || sb.Len() == 0 {
		t.Errorf("Write yaml: %v", err)
	}
}

// MaxTemplateBody is AWS's figure, written here as a literal so that a
// change of the constant (to 512,000, say) fails a test and is not simply
// believed by every check that reads it: "A structure that contains the
// body of the revised template, with a minimum length of 1 byte and a
// maximum length of 51,200 bytes"
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html,
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
func TestMaxTemplateBodyIsAWSs(t *testing.T) {
	if MaxTemplateBody != 51200 {
		t.Errorf("MaxTemplateBody = %d; CloudFormation takes at most 51,200 bytes inline", MaxTemplateBody)
	}
}
