package price

import (
	"math"
	"testing"
)

// The seed task (0.25 vCPU, 512 MB, arm64) against Lambda at 512 MB and
// 100 ms a request, with us-east-1 prices: the task is $0.009875 of compute
// and $0.005 of public IPv4 an hour; a request on Lambda is $0.2 per
// million plus 0.05 GB-s at $0.0000133334.
func TestBreakEvenPerMinute(t *testing.T) {
	p := Builtin("us-east-1")
	a := AppOnLambda{CPU: 256, MemoryMB: 512, ARM64: true, LambdaMS: 100}
	hour := 0.25*p.FargateVCPUHourARM64.USD + 0.5*p.FargateGBHourARM64.USD + p.PublicIPv4Hour.USD
	if got := a.FargateHourUSD(p); math.Abs(got-hour) > 1e-12 {
		t.Errorf("task hour %v, want %v", got, hour)
	}
	req := p.LambdaMillionRequests.USD/1e6 + 0.05*p.LambdaGBSecondARM64.USD
	want := math.Ceil(hour / req / 60)
	if got := a.BreakEvenPerMinute(p); got != want {
		t.Errorf("break-even %v a minute, want %v", got, want)
	}
	// A slower app costs more per request on Lambda: Fargate pays off sooner.
	slow := a
	slow.LambdaMS = 400
	if a.BreakEvenPerMinute(p) <= slow.BreakEvenPerMinute(p) {
		t.Errorf("break-even does not fall with duration: %v at 100 ms, %v at 400 ms", a.BreakEvenPerMinute(p), slow.BreakEvenPerMinute(p))
	}
	if free := (AppOnLambda{CPU: 256, MemoryMB: 512}).BreakEvenPerMinute(RegionPrices{}); !math.IsInf(free, 1) {
		t.Errorf("free Lambda: break-even %v, want +Inf", free)
	}
}
