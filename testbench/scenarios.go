package testbench

import "context"

// Scenario names.
const (
	ScenarioEnroll      = "enroll"
	ScenarioLockout     = "lockout"
	ScenarioWindow      = "window"
	ScenarioReplay      = "replay"
	ScenarioServerClock = "server-clock"
	ScenarioBoundary    = "boundary"
	ScenarioDrift       = "drift"
	ScenarioThrottle    = "throttle"
	ScenarioRace        = "race"
	ScenarioReuse       = "reuse"
	ScenarioBruteForce  = "bruteforce"
)

// scenario is one row of the table: its name, what it needs of the other
// measurements (said in the docs and the report's notes), how it runs and
// where its result goes. Every scenario runs concurrently on the run's
// timeline; what one needs of another it waits for (the shared
// measurements: the lockout count, the acceptance interval's edges, the
// server's Date clock), so adding a scenario touches this table, its own
// file and the Results field it fills.
type scenario struct {
	name  string
	needs string
	run   func(ctx context.Context, a *actor) (any, []Check, error)
	store func(r *Results, v any)
}

// scenarioTable lists the scenarios in the order their checks are
// reported.
var scenarioTable = []scenario{
	{ScenarioEnroll, "a bind", runEnroll,
		func(r *Results, v any) { r.Enroll = v.(*EnrollResult) }},
	{ScenarioLockout, "the edges, for right codes", runLockout,
		func(r *Results, v any) { r.Lockout = v.(*LockoutResult) }},
	{ScenarioThrottle, "the edges, for right codes (the throttle itself is found at setup)", runThrottle,
		func(r *Results, v any) { r.Throttle = v.(*ThrottleResult) }},
	{ScenarioWindow, "the edges and the Date clock", runWindow,
		func(r *Results, v any) { r.Window = v.(*WindowResult) }},
	{ScenarioReplay, "the edges", runReplay,
		func(r *Results, v any) { r.Replay = v.(*ReplayResult) }},
	{ScenarioRace, "the edges and the lockout count", runRace,
		func(r *Results, v any) { r.Race = v.(*RaceResult) }},
	{ScenarioReuse, "the edges", runReuse,
		func(r *Results, v any) { r.Reuse = v.(*ReuseResult) }},
	{ScenarioBruteForce, "the edges and the lockout (computed, nothing sent)", runBruteForce,
		func(r *Results, v any) { r.BruteForce = v.(*BruteForceResult) }},
	{ScenarioServerClock, "the Date clock and the edges", runServerClock,
		func(r *Results, v any) { r.ServerClock = v.(*ServerClockResult) }},
	{ScenarioBoundary, "the edges", runBoundary,
		func(r *Results, v any) { r.Boundary = v.(*BoundaryResult) }},
	{ScenarioDrift, "the edges", runDrift,
		func(r *Results, v any) { r.Drift = v.(*DriftResult) }},
}

// Scenarios lists every scenario name, in the table's order.
var Scenarios = func() []string {
	var out []string
	for _, s := range scenarioTable {
		out = append(out, s.name)
	}
	return out
}()
