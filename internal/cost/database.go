package cost

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lowfare/lowfare/internal/spec"
)

// The database (spec.Database) in the model: Aurora PostgreSQL Serverless
// v2, Aurora Standard storage. docs/cost-model.md ("The database") states
// each assumption.
const (
	// DatabaseAwakeACU is the capacity priced while the database is awake:
	// the smallest nonzero capacity, where a light app's database sits
	// (Aurora scales in 0.5 ACU steps from there as load needs). The
	// ceiling, max_acu for every awake hour, is stated beside it.
	DatabaseAwakeACU = 0.5
	// DefaultDatabaseGB is the cluster's storage (Aurora bills what is
	// used, from 10 GB segments' actual pages): a small app's data.
	DefaultDatabaseGB = 1.0
	// dbIOPerRequest: storage I/Os a request causes, one page read missing
	// the buffer cache and one log write; an upper bound for an app that
	// reads mostly cached pages.
	dbIOPerRequest = 2.0
	// dbBackupChangePerDay is the share of the data that changes a day:
	// Aurora keeps backup storage up to the cluster's size free within the
	// retention period, and bills the changed pages it keeps beyond that.
	dbBackupChangePerDay = 0.1
	// Backup retention lowfare sets (internal/stack/database.go).
	dbBackupDaysFree = 1
	dbBackupDaysHA   = 7
)

// DatabaseShape is the database part of a Shape.
type DatabaseShape struct {
	Present    bool
	Instances  int           // 1 (free) or 2 (ha: a reader in another zone)
	Pauses     bool          // free: 0 ACU and auto-pause
	PauseAfter time.Duration // free
	MaxACU     float64
	// HoursAwake is how long each instance is awake in a month: 730 on
	// ha, else the active hours plus one pause_after tail per active hour
	// (IdleHours with pause_after for idle.after).
	HoursAwake  float64
	ActiveHours float64
	BackupDays  int
}

// databaseShape resolves the spec's database within window, the hours the
// service may take requests (730, or the schedule's).
func databaseShape(s *spec.Spec, window float64) DatabaseShape {
	if !s.HasDatabase() || !s.ECS() {
		return DatabaseShape{}
	}
	d := DatabaseShape{Present: true, Instances: 1, MaxACU: s.Database.MaxACU, HoursAwake: HoursPerMonth, BackupDays: dbBackupDaysFree}
	if s.Profile == spec.ProfileHA {
		d.Instances, d.BackupDays = 2, dbBackupDaysHA
		return d
	}
	d.Pauses, d.PauseAfter = true, s.Database.PauseAfterDuration()
	active, _ := ActiveHours(s, window)
	d.ActiveHours = active
	d.HoursAwake, _ = IdleHours(active, d.PauseAfter, window)
	return d
}

// database prices the database's lines: capacity awake, storage, I/O and
// backup beyond the free allowance.
func (pr pricer) database(sh Shape) []Item {
	d := sh.Database
	if !d.Present {
		return nil
	}
	acuHours := float64(d.Instances) * DatabaseAwakeACU * d.HoursAwake
	desc := fmt.Sprintf("Aurora Serverless v2 capacity (%d instance(s) x %g ACU, %.4g h awake)", d.Instances, DatabaseAwakeACU, d.HoursAwake)
	capacity := newItem("db_capacity", desc, acuHours, "ACU-hour", pr.p.AuroraACUHour, 0)
	ceiling := float64(d.Instances) * d.MaxACU * d.HoursAwake * pr.p.AuroraACUHour.USD
	if d.Pauses {
		capacity.Note = fmt.Sprintf("paused at 0 ACU (nothing billed) the other %.4g h; at max_acu %g every awake hour: $%.2f", HoursPerMonth-d.HoursAwake, d.MaxACU, ceiling)
	} else {
		capacity.Note = fmt.Sprintf("ha never pauses: the writer and its reader in another zone; at max_acu %g all month: $%.2f", d.MaxACU, ceiling)
	}
	capacity.keep = true
	storage := newItem("db_storage", "Aurora storage", DefaultDatabaseGB, "GB-month", pr.p.AuroraStorageGBMonth, 0)
	storage.Note = "one copy billed, though Aurora keeps six in three zones"
	io := newItem("db_io", "Aurora I/O", pr.w.RequestsPerMonth*dbIOPerRequest/1e6, "million I/Os", pr.p.AuroraMillionIO, 0)
	io.Note = fmt.Sprintf("%g I/Os a request (upper bound)", dbIOPerRequest)
	backupGB := DefaultDatabaseGB * dbBackupChangePerDay * float64(max(d.BackupDays-1, 0))
	backup := newItem("db_backup", fmt.Sprintf("Aurora backups beyond the free allowance (%d days kept)", d.BackupDays), backupGB, "GB-month", pr.p.AuroraBackupGBMonth, 0)
	return []Item{capacity, storage, io, backup}
}

// databaseNote says how the database's hours were counted.
func databaseNote(d DatabaseShape) string {
	if !d.Present {
		return ""
	}
	if !d.Pauses {
		return fmt.Sprintf("Database (profile ha): %d Aurora Serverless v2 instances in two zones, never paused, at least %g ACU each: %.0f ACU-hours a month; Multi-AZ doubles the capacity, not the storage or I/O.", d.Instances, DatabaseAwakeACU, float64(d.Instances)*DatabaseAwakeACU*HoursPerMonth)
	}
	return fmt.Sprintf("Database awake %.4g h a month: %.4g active hours plus, after each (one wake an active hour), pause_after %s without connections; paused at 0 ACU otherwise (resuming takes about 15 s). Priced at %g ACU awake; connections held open keep it awake, and then it is %g h.",
		d.HoursAwake, d.ActiveHours, spec.DurationText(d.PauseAfter), DatabaseAwakeACU, math.Round(HoursPerMonth))
}

// databaseSummary is plan's line on the database's share of the bill, or
// "" without a database.
func (r *Report) databaseSummary() string {
	d := r.Shape.Database
	if !d.Present {
		return ""
	}
	var total float64
	var parts []string
	for _, it := range r.Items {
		if strings.HasPrefix(it.Name, "db_") {
			total += it.USD
			if it.USD >= 0.005 {
				parts = append(parts, fmt.Sprintf("%s %s", strings.TrimPrefix(it.Name, "db_"), formatUSD(it.USD)))
			}
		}
	}
	awake := fmt.Sprintf("awake %.4g h, paused the rest", d.HoursAwake)
	if !d.Pauses {
		awake = fmt.Sprintf("%d instances in two zones, never paused", d.Instances)
	}
	return fmt.Sprintf("database: %s a month (%s; %s)", formatUSD(total), strings.Join(parts, ", "), awake)
}
