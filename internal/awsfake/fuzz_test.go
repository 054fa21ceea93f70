package awsfake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/smithy-go/encoding/cbor"
)

// The fakes face whatever a client (or a bug in one) sends: they must
// never panic, and must always answer in their protocol's shape.

func FuzzJSONService(f *testing.F) {
	f.Add("AmazonSSM.PutParameter", []byte(`{"Name":"/a/b","Value":"v","Type":"SecureString","Overwrite":true}`))
	f.Add("AmazonSSM.DescribeParameters", []byte(`{"ParameterFilters":[{"Key":"Path","Option":"OneLevel","Values":["/a"]}],"NextToken":"1"}`))
	f.Add("AmazonSSM.GetParameters", []byte(`{"Names":["/a/b","/a/c"]}`))
	f.Add("AmazonSSM.DeleteParameter", []byte(`{"Name":7}`))
	f.Add("Nope.Op", []byte(`not json`))
	f.Fuzz(func(t *testing.T, target string, body []byte) {
		h := NewSSM()
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d answer is not a JSON object: %q", rec.Code, rec.Body.Bytes())
		}
		if rec.Code != http.StatusOK {
			if _, ok := out["__type"].(string); !ok {
				t.Fatalf("error answer without __type: %q", rec.Body.Bytes())
			}
		}
	})
}

func FuzzCloudWatchCBOR(f *testing.F) {
	f.Add([]byte(cbor.Encode(cbor.Map{"AlarmNamePrefix": cbor.String("lowfare-"), "StateValue": cbor.String("ALARM")})))
	f.Add([]byte(cbor.Encode(cbor.List{cbor.Uint(1)})))
	f.Add([]byte{0xbf, 0xff})
	f.Add([]byte{0x9f})
	f.Fuzz(func(t *testing.T, body []byte) {
		h := NewCloudWatch()
		h.AddAlarm(Alarm{Name: "lowfare-a-dev-5xx", State: "ALARM"})
		req := httptest.NewRequest(http.MethodPost, cloudWatchPathPrefix+"DescribeAlarms", bytes.NewReader(body))
		req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		v, err := cbor.Decode(rec.Body.Bytes())
		if err != nil {
			t.Fatalf("answer is not CBOR: %v", err)
		}
		m, ok := v.(cbor.Map)
		if !ok {
			t.Fatalf("answer is not a CBOR map: %T", v)
		}
		if rec.Code != http.StatusOK {
			if _, ok := m["__type"]; !ok {
				t.Fatal("error answer without __type")
			}
		}
	})
}

func FuzzQueryXML(f *testing.F) {
	f.Add([]byte("Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=arn%3Atg"))
	f.Add([]byte("Action=GetCallerIdentity&Version=2011-06-15"))
	f.Add([]byte("Action=DescribeTargetHealth"))
	f.Add([]byte("%zz"))
	f.Fuzz(func(t *testing.T, body []byte) {
		elb := NewELBv2()
		elb.SetTargets("arn:tg", Target{ID: "10.0.0.1", Port: 80, State: "healthy"})
		for _, h := range []http.Handler{elb, NewSTS("123456789012")} {
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if !bytes.HasPrefix(rec.Body.Bytes(), []byte("<?xml")) {
				t.Fatalf("answer is not XML: %q", rec.Body.Bytes())
			}
			if rec.Code != http.StatusOK && !bytes.Contains(rec.Body.Bytes(), []byte("<ErrorResponse")) {
				t.Fatalf("error answer is not an ErrorResponse: %q", rec.Body.Bytes())
			}
		}
	})
}
