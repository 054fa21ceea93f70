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

// An x86_64 service runs its app function on x86 too, where a GB-second
// costs more: each request costs more on Lambda, so the task pays off at a
// lower rate than the same service on arm64 priced the same way.
func TestBreakEvenX86PricesLambdaAtX86(t *testing.T) {
	p := Builtin("us-east-1")
	if p.LambdaGBSecondX86.USD <= p.LambdaGBSecondARM64.USD {
		t.Fatalf("x86 GB-second %v not above arm64 %v", p.LambdaGBSecondX86.USD, p.LambdaGBSecondARM64.USD)
	}
	x86 := AppOnLambda{CPU: 256, MemoryMB: 512, LambdaMS: 100}
	want := p.LambdaMillionRequests.USD/1e6 + 0.05*p.LambdaGBSecondX86.USD
	if got := x86.LambdaRequestUSD(p); math.Abs(got-want) > 1e-15 {
		t.Errorf("x86 request %v, want %v (x86 GB-second rate)", got, want)
	}
	if want := math.Ceil(x86.FargateHourUSD(p) / want / 60); x86.BreakEvenPerMinute(p) != want {
		t.Errorf("x86 break-even %v a minute, want %v", x86.BreakEvenPerMinute(p), want)
	}
}
