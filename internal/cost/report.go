package cost

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lowfare/lowfare/internal/spec"
)

// WriteText prints the bill as a table, the total, the budget verdict, the
// notes and, when compared, the other shapes.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Monthly estimate for %s-%s in %s: %s\n", r.App, r.Env, r.Region, r.describeShape())
	fmt.Fprintf(&b, "Workload: %s requests a month, %s KB a response. Prices: %s (%s). Free tier: %s (%s).\n\n",
		formatQty(r.Workload.RequestsPerMonth), formatQty(r.Workload.ResponseKB), r.PricesName, r.priceDates(), r.FreeTier, r.FreeTierSource)

	rows := [][]string{{"ITEM", "QUANTITY", "UNIT", "UNIT PRICE", "FREE", "COST"}}
	for _, it := range r.Items {
		rows = append(rows, []string{it.Description, formatQty(it.Quantity), it.Unit,
			"$" + strconv.FormatFloat(it.UnitUSD, 'f', -1, 64), formatQty(it.FreeQuantity), formatUSD(it.USD)})
	}
	rows = append(rows, []string{"TOTAL", "", "", "", "", formatUSD(r.TotalUSD)})
	writeTable(&b, "", rows, []bool{false, true, false, true, true, true})
	b.WriteString("\n" + r.Verdict() + "\n")
	if top := r.Largest(1); len(top) == 1 {
		fmt.Fprintf(&b, "Largest line: %s, %s (%.0f%% of the total).\n", top[0].Description, formatUSD(top[0].USD), 100*top[0].USD/r.TotalUSD)
	}
	for _, it := range r.Items {
		if it.Note != "" {
			fmt.Fprintf(&b, "  %s: %s.\n", it.Description, it.Note)
		}
	}
	for _, n := range r.Notes {
		b.WriteString("  " + n + "\n")
	}
	if len(r.Compare) > 0 {
		b.WriteString("\nThe same workload in other shapes:\n")
		rows := [][]string{{"SHAPE", "MONTHLY", "BUDGET"}}
		for _, c := range r.Compare {
			name := c.Shape.Name()
			if c.Current {
				name += "  <- this spec"
			}
			verdict := "fits"
			if !c.FitsBudget {
				verdict = "over"
			}
			if c.Shape.Runtime == RuntimeCDKReference {
				verdict = "reference"
			}
			rows = append(rows, []string{name, formatUSD(c.TotalUSD), verdict})
		}
		writeTable(&b, "  ", rows, []bool{false, true, false})
		if !r.Shape.ScheduleSet {
			b.WriteString("  (assumed): the spec has no schedule; the scheduled rows use " + defaultScheduleLabel + ".\n")
		}
		b.WriteString(r.fitLines("", ""))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTable prints rows in columns two spaces apart; right[i] aligns
// column i to the right (numbers).
func writeTable(b *strings.Builder, indent string, rows [][]string, right []bool) {
	widths := make([]int, len(right))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		line.WriteString(indent)
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i > 0 {
				line.WriteString("  ")
			}
			if right[i] {
				line.WriteString(pad + cell)
			} else {
				line.WriteString(cell + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

// WriteSummary is the few lines 'lowfare plan' ends with: the total, the
// verdict, the largest lines and, when over budget, the cheapest shape that
// fits. The report must have been made with Compare.
func (r *Report) WriteSummary(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Monthly estimate: %s\n", r.describeShape())
	fmt.Fprintf(&b, "  %s list prices, free tier %s (%s), %s requests of %s KB a month\n",
		r.Region, r.FreeTier, r.FreeTierSource, formatQty(r.Workload.RequestsPerMonth), formatQty(r.Workload.ResponseKB))
	if r.FreeTierWhy != "" {
		b.WriteString("  free tier: " + r.FreeTierWhy + "\n")
	}
	b.WriteString("  " + r.Verdict() + "\n")
	var parts []string
	for _, it := range r.Largest(3) {
		parts = append(parts, fmt.Sprintf("%s %s", it.Description, formatUSD(it.USD)))
	}
	if len(parts) > 0 {
		b.WriteString("  largest lines: " + strings.Join(parts, "; ") + "\n")
	}
	if line := r.databaseSummary(); line != "" {
		b.WriteString("  " + line + "\n")
	}
	if !r.FitsBudget() {
		b.WriteString(r.fitLines("  ", "  line by line: lowfare cost --compare\n"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fitLines names the cheapest shape that fits and, when that leaves ECS,
// the cheapest one that keeps the containers.
func (r *Report) fitLines(indent, tail string) string {
	var b strings.Builder
	best, ok := r.CheapestFit()
	if !ok {
		fmt.Fprintf(&b, "%sno compared shape fits the %s budget\n", indent, formatUSD(r.BudgetUSD))
		return b.String() + tail
	}
	fmt.Fprintf(&b, "%scheapest shape that fits: %s (%s a month)\n", indent, best.Shape.Name(), formatUSD(best.TotalUSD))
	assumed := best.Shape.ScheduleSet && !r.Shape.ScheduleSet
	if best.Shape.Runtime != RuntimeECS && r.Shape.Runtime == RuntimeECS {
		if c, ok := r.CheapestContainerFit(); ok {
			fmt.Fprintf(&b, "%scheapest shape that fits and keeps ECS Fargate: %s (%s a month)\n", indent, c.Shape.Name(), formatUSD(c.TotalUSD))
			assumed = assumed || (c.Shape.ScheduleSet && !r.Shape.ScheduleSet)
		}
	}
	if assumed && indent != "" {
		fmt.Fprintf(&b, "%s(assumed): the spec has no schedule; a service.schedule of %q in UTC was priced\n", indent, "Mon-Fri 08:00-20:00")
	}
	return b.String() + tail
}

// Verdict is the budget sentence.
func (r *Report) Verdict() string {
	if r.BudgetUSD <= 0 {
		return fmt.Sprintf("Total %s a month; the spec sets no budget.", formatUSD(r.TotalUSD))
	}
	pct := 100 * r.BudgetShare()
	if r.FitsBudget() {
		return fmt.Sprintf("Within budget: %s of the %s budget (%.0f%%).", formatUSD(r.TotalUSD), formatUSD(r.BudgetUSD), pct)
	}
	return fmt.Sprintf("OVER BUDGET: %s exceeds the %s budget by %s (%.0f%% of it).",
		formatUSD(r.TotalUSD), formatUSD(r.BudgetUSD), formatUSD(r.TotalUSD-r.BudgetUSD), pct)
}

func (r *Report) describeShape() string {
	sh := r.Shape
	switch sh.Runtime {
	case RuntimeServerless:
		return fmt.Sprintf("profile serverless, %s, Lambda arm64 %d MB", sh.Ingress, sh.MemoryMB)
	}
	arch := sh.Arch
	if sh.Spot {
		arch += " Spot"
	}
	return fmt.Sprintf("ingress %s, %d task(s) of %d CPU / %d MB %s, awake %s (%.1f h a month)",
		sh.Ingress, sh.Tasks, sh.CPU, sh.MemoryMB, arch, sh.Schedule, sh.HoursAwake)
}

// priceDates names the months the region's prices were checked.
func (r *Report) priceDates() string {
	if len(r.PriceDates) == 0 {
		return "undated"
	}
	return "checked " + strings.Join(r.PriceDates, ", ")
}

// JSON field names are a contract: scripts read them.
type jsonReport struct {
	App      string   `json:"app"`
	Env      string   `json:"env"`
	Region   string   `json:"region"`
	FreeTier FreeTier `json:"free_tier"`
	// FreeTierSource is account (the account was asked) or assumed.
	FreeTierSource FreeTierSource `json:"free_tier_source"`
	Prices         string         `json:"prices"`
	PriceDates     []string       `json:"price_dates"`
	Shape          string         `json:"shape"`
	HoursAwake     float64        `json:"hours_awake"`
	Workload       jsonWorkload   `json:"workload"`
	TotalUSD       float64        `json:"total_usd"`
	BudgetUSD      float64        `json:"budget_usd"`
	FitsBudget     bool           `json:"fits_budget"`
	BudgetShare    float64        `json:"budget_share"`
	Idle           *jsonIdle      `json:"idle,omitempty"`
	Items          []Item         `json:"items"`
	Compare        []jsonCompare  `json:"compare"`
	CheapestFit    *jsonCompare   `json:"cheapest_fit,omitempty"`
	Notes          []string       `json:"notes"`
}

// jsonIdle is service.idle as priced: who answers while asleep, and with
// serve: app the rate it wakes at against the workload's.
type jsonIdle struct {
	After          string  `json:"after"`
	Serve          string  `json:"serve"`
	ActiveHours    float64 `json:"active_hours"`
	Wakes          float64 `json:"wakes"`
	RatePerMinute  float64 `json:"rate_per_minute,omitempty"`
	WakePerMinute  float64 `json:"wake_per_minute,omitempty"`
	LambdaRequests float64 `json:"lambda_requests,omitempty"`
}

type jsonWorkload struct {
	RequestsPerMonth float64 `json:"requests_per_month"`
	ResponseKB       float64 `json:"response_kb"`
	LambdaMS         float64 `json:"lambda_ms"`
	StoredGB         float64 `json:"stored_gb"`
	LogGB            float64 `json:"log_gb"`
}

// jsonCompare is one shape: its name for people, its parts for scripts.
type jsonCompare struct {
	Shape      string  `json:"shape"`
	Runtime    Runtime `json:"runtime"`
	Ingress    string  `json:"ingress"`
	Arch       string  `json:"arch"` // of the task, or the function on serverless
	Spot       bool    `json:"spot"`
	Tasks      int     `json:"tasks,omitempty"`
	CPU        int     `json:"cpu,omitempty"`
	MemoryMB   int     `json:"memory_mb"`
	HoursAwake float64 `json:"hours_awake"`
	Schedule   string  `json:"schedule"`
	TotalUSD   float64 `json:"total_usd"`
	FitsBudget bool    `json:"fits_budget"`
	Current    bool    `json:"current"`
}

func compareJSON(c CompareRow) jsonCompare {
	sh := c.Shape
	j := jsonCompare{
		Shape: sh.Name(), Runtime: sh.Runtime, Ingress: sh.Ingress, Arch: sh.Arch, Spot: sh.Spot,
		MemoryMB: sh.MemoryMB, HoursAwake: round(sh.HoursAwake), Schedule: sh.Schedule,
		TotalUSD: round(c.TotalUSD), FitsBudget: c.FitsBudget, Current: c.Current,
	}
	if sh.Runtime != RuntimeServerless {
		j.Tasks, j.CPU = sh.Tasks, sh.CPU
	}
	return j
}

// WriteJSON prints the report as JSON with stable names: total_usd,
// budget_usd, fits_budget, items[] (name, quantity, unit, unit_usd,
// free_quantity, usd) and compare[] (shape, total_usd).
func (r *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{
		App: r.App, Env: r.Env,
		Region:         r.Region,
		FreeTier:       r.FreeTier,
		FreeTierSource: r.FreeTierSource,
		Prices:         r.PricesName,
		PriceDates:     append([]string{}, r.PriceDates...),
		Shape:          r.Shape.Name(),
		HoursAwake:     round(r.Shape.HoursAwake),
		Workload: jsonWorkload{
			RequestsPerMonth: r.Workload.RequestsPerMonth,
			ResponseKB:       r.Workload.ResponseKB,
			LambdaMS:         r.Workload.LambdaMS,
			StoredGB:         r.Workload.StoredGB,
			LogGB:            round(r.LogGB),
		},
		TotalUSD:    round(r.TotalUSD),
		BudgetUSD:   r.BudgetUSD,
		FitsBudget:  r.FitsBudget(),
		BudgetShare: round(r.BudgetShare()),
		Items:       make([]Item, 0, len(r.Items)),
		Compare:     make([]jsonCompare, 0, len(r.Compare)),
		Notes:       append([]string{}, r.Notes...),
	}
	if sh := r.Shape; sh.Runtime == RuntimeECS && sh.Idle {
		out.Idle = &jsonIdle{After: spec.DurationText(sh.IdleAfter), Serve: spec.ServePage, ActiveHours: round(sh.ActiveHours), Wakes: round(sh.Wakes)}
		if sh.ServeApp {
			out.Idle.Serve = spec.ServeApp
			out.Idle.RatePerMinute, out.Idle.WakePerMinute, out.Idle.LambdaRequests = round(sh.RatePerMinute), sh.WakePerMinute, round(sh.LambdaRequests)
		}
	}
	for _, it := range r.Items {
		it.Quantity, it.FreeQuantity, it.USD = round(it.Quantity), round(it.FreeQuantity), round(it.USD)
		out.Items = append(out.Items, it)
	}
	for _, c := range r.Compare {
		out.Compare = append(out.Compare, compareJSON(c))
	}
	if best, ok := r.CheapestFit(); ok && !r.FitsBudget() {
		fit := compareJSON(best)
		fit.FitsBudget = true
		out.CheapestFit = &fit
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// round keeps six decimals: enough for a unit price, free of float noise.
func round(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func formatUSD(v float64) string {
	if v > 0 && v < 0.005 {
		return "<$0.01"
	}
	return fmt.Sprintf("$%.2f", v)
}

// formatQty prints a quantity readably: whole numbers with thousands
// separators, fractions with four significant digits.
func formatQty(q float64) string {
	if q == math.Trunc(q) && math.Abs(q) < 1e15 {
		s := strconv.FormatInt(int64(q), 10)
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	if math.Abs(q) >= 100 {
		return strconv.FormatFloat(q, 'f', 1, 64)
	}
	return strconv.FormatFloat(q, 'g', 4, 64)
}
