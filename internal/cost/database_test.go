package cost

import (
	"math"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
)

// Worked by hand in docs/cost-model.md ("The database"): the idle seed
// (apigw, idle after 15m, serve: page, 40 active hours) with a database
// that pauses after 15m is awake 40 + 40 x 0.25 = 50 h:
//
//	capacity 1 x 0.5 ACU x 50 h = 25 ACU-h x $0.12 = $3.00
//	storage  1 GB x $0.10                          = $0.10
//	I/O      1 M requests x 2 = 2 M x $0.20        = $0.40
//	                                                 $3.50
//
// on top of the idle seed's $3.36: $6.86. ha (examples/ha.yaml, 20 M
// requests) adds 2 x 0.5 ACU x 730 h = 730 ACU-h x $0.12 = $87.60, storage
// $0.10, 40 M I/Os $8.00 and 1 GB x 0.1 x 6 days = 0.6 GB of backups x
// $0.021 = $0.0126.
const (
	dbFreeHandUSD = 25*0.12 + 0.10 + 2*0.20
	dbHAHandUSD   = 730*0.12 + 0.10 + 40*0.20 + 0.6*0.021
)

func dbLines(r *Report) (total float64, names []string) {
	for _, it := range r.Items {
		if strings.HasPrefix(it.Name, "db_") {
			total += it.USD
			names = append(names, it.Name)
		}
	}
	return total, names
}

func TestDatabaseFreePausesOutsideActiveHours(t *testing.T) {
	s := idleSeed("15m", 40)
	s.Service.Idle.Serve = spec.ServePage
	s.Database = &spec.Database{Engine: spec.EnginePostgres, PauseAfter: "15m", MaxACU: 2}
	r := estimate(t, s, Options{Compare: true})
	db, names := dbLines(r)
	if math.Abs(db-dbFreeHandUSD) > 0.005 {
		t.Errorf("database lines %v = $%.4f, want $%.4f", names, db, dbFreeHandUSD)
	}
	if r.Shape.Database.HoursAwake != 50 {
		t.Errorf("database awake %v h, want 50", r.Shape.Database.HoursAwake)
	}
	if math.Abs(r.TotalUSD-(apigwIdle40HandTotal+dbFreeHandUSD)) > 0.01 {
		t.Errorf("total $%.4f, want $%.4f", r.TotalUSD, apigwIdle40HandTotal+dbFreeHandUSD)
	}
	if !r.FitsBudget() {
		t.Errorf("$%.2f does not fit the $10 budget", r.TotalUSD)
	}
	for _, c := range r.Compare {
		if c.Shape.Runtime == RuntimeServerless {
			t.Errorf("compare offers %s, which takes no database", c.Shape.Name())
		}
	}
	joined := strings.Join(r.Notes, "\n")
	if !strings.Contains(joined, "Database awake 50 h a month: 40 active hours plus") {
		t.Errorf("no database note:\n%s", joined)
	}
	if !strings.Contains(strings.Join(r.PriceDates, ","), "2026-12") {
		t.Errorf("price dates %v leave out the database prices'", r.PriceDates)
	}
	// A longer pause costs more: 1h after each active hour is 80 h.
	s.Database.PauseAfter = "1h"
	if h := estimate(t, s, Options{}).Shape.Database.HoursAwake; h != 80 {
		t.Errorf("pause_after 1h: awake %v h, want 80", h)
	}
}

func TestDatabaseHAMultiAZNeverPaused(t *testing.T) {
	s, err := spec.Load("../../examples/ha.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s.Database = &spec.Database{Engine: spec.EnginePostgres, MaxACU: 4}
	r := estimate(t, s, Options{})
	db, names := dbLines(r)
	if math.Abs(db-dbHAHandUSD) > 0.005 {
		t.Errorf("database lines %v = $%.4f, want $%.4f", names, db, dbHAHandUSD)
	}
	d := r.Shape.Database
	if d.Instances != 2 || d.Pauses || d.HoursAwake != 730 {
		t.Errorf("ha database %+v, want 2 instances awake 730 h", d)
	}
	without := *s
	without.Database = nil
	if base := estimate(t, &without, Options{}).TotalUSD; math.Abs(r.TotalUSD-base-dbHAHandUSD) > 0.01 {
		t.Errorf("ha with a database $%.2f, without $%.2f: the difference is not the database's $%.2f", r.TotalUSD, base, dbHAHandUSD)
	}
}

// A --prices table written before the database prices still prices a
// spec without a database, and names what to add for one with it.
func TestDatabaseNeedsItsPrices(t *testing.T) {
	table, err := price.BuiltinTable()
	if err != nil {
		t.Fatal(err)
	}
	rp := table.Regions["us-east-1"]
	rp.AuroraACUHour, rp.AuroraMillionIO = price.Price{}, price.Price{}
	older := &price.Table{Name: "old.json", Regions: map[string]price.RegionPrices{"us-east-1": rp}}
	s := spec.Default()
	if _, err := Estimate(s, Options{Table: older, Workload: WorkloadOf(s)}); err != nil {
		t.Errorf("no database: %v", err)
	}
	s.Database = &spec.Database{Engine: spec.EnginePostgres, PauseAfter: "15m", MaxACU: 2}
	_, err = Estimate(s, Options{Table: older, Workload: WorkloadOf(s)})
	if err == nil || !strings.Contains(err.Error(), "regions.us-east-1.aurora_serverless_v2_acu_hour, regions.us-east-1.aurora_million_io") {
		t.Errorf("with a database: %v", err)
	}
}
