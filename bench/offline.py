"""The offline reference for `bench.simulate`: the most series the month could have held.

It sees the whole seeded month of demand (`bench.demand.month`) at once and books the most series
under the planner's rules, on the planner's start grid, with OR-Tools CP-SAT. Its count is the
bar `bench.simulate` measures the planner against.

The rules, as the planner and the booking checks apply them: sessions only on open days and inside
the opening hours, on the start grid; a chair holds one patient at a time; a nurse on shift sets
up one patient at a time and monitors at most k at once; a patient is in one chair at a time (a
series never has two sessions on one day: the minimum gap is 2 days); consecutive sessions 2-7
days apart, the whole series within 28 days; the first session on or after the patient's arrival
and within the planner's first-session search window (`planner.FIRST_SESSION_SEARCH_DAYS`), every
session inside the horizon of nurse shifts. Preferred weekdays and windows are soft, as in the
planner: they rank bookings, they never refuse one.

The model is decomposed by day, which loses nothing for the count: every session holds a chair
for the same 100 minutes, so a set of sessions fits one day exactly when there are no more of
them than the day can hold (`bench.demand.daily_capacity`, confirmed here by an exact one-day
model with every nurse explicit). Three solves, each on 2 workers with a time limit:

1. Dates (the count). A boolean per patient and open day in the patient's reach, with the
   patient's first and last session days: exactly 8 sessions for a booked series, none on two
   consecutive days, each but the last followed by another within 7 days, all within 28 days of
   the first, the first within the search window; at most `daily_capacity` sessions a day.
   Maximise booked series. Patients who arrive on the same day are interchangeable for the count,
   so they are booked in order (symmetry breaking). The solver starts from `greedy` (each series
   in arrival order on its earliest dates), and its bound gives the gap.
2. Weekdays: the count fixed, the fewest sessions off the patients' preferred weekdays.
3. Times: per day, the sessions' start times (with explicit nurses) that minimise the total
   distance from the preferred windows.

Results are stored in bench/results/offline-<config>-<demand>.json keyed by `bench.demand.digest`
(the demand and every rule); a cell is solved again only when its digest changes, or with
`--force`.

    python -m bench.offline [--config 6c4n-k1] [--demand 0.9] [--force] [--time-limit 180]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import TYPE_CHECKING, Any

from bench.harness import RESULTS, machine
from bench.simulate import _django_in_memory

if TYPE_CHECKING:
    from bench import demand

WORKERS = 2
GAP_GOAL = 0.02


def _solver(seconds: float) -> Any:
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = WORKERS
    solver.parameters.random_seed = 1  # the same answer on every run
    return solver


def one_day(
    config: demand.Config,
    windows: dict[tuple[Any, Any], int] | None = None,
    seconds: float = 30.0,
) -> tuple[int, dict[int, list[tuple[Any, Any]]]]:
    """Exact one-day model: starts on the grid, every nurse explicit, chairs by count.

    Identical chairs can be given to intervals whenever no more than `chairs` overlap (interval
    graphs are perfect), so chairs are a count; nurses are explicit, each setting up one patient
    per grid step (set-up fits one step) and monitoring at most k at once. Without `windows`,
    maximise the sessions of the day (the capacity check); with `windows` (how many sessions of
    each preferred window), place them all at the least total distance from their windows.
    Returns the objective and, per start minute (after opening), the windows starting there.
    """
    from ortools.sat.python import cp_model

    from bench import demand
    from scheduling.planner import Window

    grid = demand.starts_per_day()
    every = demand.steps()
    units = len(grid) + every - 1
    kinds: list[Any] = list(windows) if windows else [None]
    model = cp_model.CpModel()
    start = {
        (t, j, w): model.new_bool_var(f"s{t}_{j}_{i}")
        for t in range(len(grid))
        for j in range(config.nurses)
        for i, w in enumerate(kinds)
    }
    for t in range(len(grid)):
        for j in range(config.nurses):
            model.add(sum(start[t, j, w] for w in kinds) <= 1)  # one set-up at a time
    for u in range(units):
        covering = [t for t in range(len(grid)) if t <= u < t + every]
        model.add(
            sum(start[t, j, w] for t in covering for j in range(config.nurses) for w in kinds)
            <= config.chairs
        )
        for j in range(config.nurses):
            model.add(sum(start[t, j, w] for t in covering for w in kinds) <= config.capacity)
    for j in range(config.nurses - 1):  # nurses are interchangeable
        model.add(
            sum(start[t, j, w] for t in range(len(grid)) for w in kinds)
            >= sum(start[t, j + 1, w] for t in range(len(grid)) for w in kinds)
        )
    opens = demand.OPENS.hour * 60
    if windows is None:
        model.maximize(sum(start.values()))
    else:
        for w, count in windows.items():
            model.add(
                sum(start[t, j, w] for t in range(len(grid)) for j in range(config.nurses)) == count
            )
        model.minimize(
            cp_model.LinearExpr.weighted_sum(
                list(start.values()),
                [Window(*w).distance(opens + grid[t]) for t, _, w in start],
            )
        )
    solver = _solver(seconds)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"one-day model: {solver.status_name(status)}")
    placed: dict[int, list[Any]] = {}
    for (t, _, w), var in start.items():
        if solver.value(var):
            placed.setdefault(grid[t], []).append(w)
    return round(solver.objective_value), placed


def greedy(patients: list[demand.Patient], capacity: int, search_days: int) -> dict[int, list[int]]:
    """Each series, in arrival order, on the earliest dates that keep the rules (by day counts).

    Only a starting point for the solver (a feasible solution it then improves on).
    """
    from bench import demand

    shape = demand.SHAPE
    open_days = set(demand.open_days())
    used: dict[int, int] = dict.fromkeys(open_days, 0)
    booked: dict[int, list[int]] = {}

    def free(day: int) -> bool:
        return day in open_days and used[day] < capacity

    for i, patient in enumerate(patients):
        for start in range(patient.arrives, patient.arrives + search_days):
            if not free(start):
                continue
            dates = [start]
            while len(dates) < shape.infusions:
                later = [
                    dates[-1] + gap
                    for gap in range(shape.min_days_between, shape.max_days_between + 1)
                    if free(dates[-1] + gap) and dates[-1] + gap - start <= shape.span_days
                ]
                if not later:
                    break
                dates.append(later[0])
            if len(dates) == shape.infusions:
                for day in dates:
                    used[day] += 1
                booked[i] = dates
                break
    return booked


def solve(config: demand.Config, share: float, seconds: float) -> dict[str, Any]:
    """The reference for one cell (see the module docstring)."""
    from ortools.sat.python import cp_model

    from bench import demand
    from scheduling.planner import FIRST_SESSION_SEARCH_DAYS

    started = time.perf_counter()
    shape = demand.SHAPE
    capacity, _ = one_day(config)
    if capacity != demand.daily_capacity(config):
        raise RuntimeError(f"daily capacity {capacity} != {demand.daily_capacity(config)}")
    patients = demand.month(config, share)
    open_days = set(demand.open_days())
    last_day = demand.HORIZON_DAYS - 1

    model = cp_model.CpModel()
    booked: list[Any] = []
    x: dict[tuple[int, int], Any] = {}
    first: dict[tuple[int, int], Any] = {}
    last: dict[tuple[int, int], Any] = {}
    by_day: dict[int, list[Any]] = {d: [] for d in open_days}
    for i, patient in enumerate(patients):
        y = model.new_bool_var(f"y{i}")
        booked.append(y)
        reach = [
            d
            for d in range(
                patient.arrives,
                min(last_day, patient.arrives + FIRST_SESSION_SEARCH_DAYS - 1 + shape.span_days)
                + 1,
            )
            if d in open_days
        ]
        starts = [d for d in reach if d < patient.arrives + FIRST_SESSION_SEARCH_DAYS]
        for d in reach:
            x[i, d] = model.new_bool_var(f"x{i}_{d}")
            first[i, d] = model.new_bool_var(f"f{i}_{d}") if d in starts else None
            last[i, d] = model.new_bool_var(f"l{i}_{d}")
            by_day[d].append(x[i, d])
        model.add(sum(x[i, d] for d in reach) == shape.infusions * y)
        model.add(sum(first[i, d] for d in starts) == y)
        model.add(sum(last[i, d] for d in reach) == y)
        for d in reach:
            if first[i, d] is not None:
                model.add_implication(first[i, d], x[i, d])
            model.add_implication(last[i, d], x[i, d])
            # After the first session and within the span of it.
            model.add(x[i, d] <= sum(first[i, e] for e in starts if d - shape.span_days <= e <= d))
            # Nothing after the last session.
            model.add(x[i, d] + sum(last[i, e] for e in reach if e < d) <= 1)
            # The minimum gap (2 days: never two days running).
            for e in reach:
                if d < e < d + shape.min_days_between:
                    model.add(x[i, d] + x[i, e] <= 1)
            # The maximum gap: a session that is not the last has a next one within 7 days.
            model.add(
                x[i, d] - last[i, d]
                <= sum(x[i, e] for e in reach if d < e <= d + shape.max_days_between)
            )
    for i in range(1, len(patients)):
        if patients[i].arrives == patients[i - 1].arrives:
            model.add(booked[i] <= booked[i - 1])
    for sessions in by_day.values():
        model.add(sum(sessions) <= capacity)
    model.maximize(sum(booked))
    # A first solution to start from: in arrival order, each series on its earliest dates.
    hint = greedy(patients, capacity, FIRST_SESSION_SEARCH_DAYS)
    for i, var in enumerate(booked):
        model.add_hint(var, i in hint)
    for (i, d), var in x.items():
        model.add_hint(var, d in hint.get(i, ()))
    for (i, d), var in first.items():
        if var is not None:
            model.add_hint(var, i in hint and d == hint[i][0])
    for (i, d), var in last.items():
        model.add_hint(var, i in hint and d == hint[i][-1])

    solver = _solver(seconds)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"dates model: {solver.status_name(status)}")
    count = round(solver.objective_value)
    bound = round(solver.best_objective_bound)
    count_seconds = time.perf_counter() - started

    # 2. The fewest sessions off a preferred weekday, the count kept.
    model.clear_objective()  # type: ignore[no-untyped-call]  # untyped in ortools
    model.add(sum(booked) == count)
    for var in [*x.values(), *booked]:
        model.add_hint(var, solver.value(var))
    model.minimize(sum(var for (i, d), var in x.items() if d % 7 not in patients[i].weekdays))
    second = _solver(min(seconds, 30.0))
    status = second.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        second = solver  # keep the first solution
    days: dict[int, list[int]] = {}
    for (i, d), var in x.items():
        if second.value(var):
            days.setdefault(d, []).append(i)
    off_weekday = sum(
        1 for d, who in days.items() for i in who if d % 7 not in patients[i].weekdays
    )
    series_days: dict[int, list[int]] = {}
    for d in sorted(days):
        for i in days[d]:
            series_days.setdefault(i, []).append(d)

    # 3. Start times per day, the least distance from the windows.
    distance = 0
    for d in sorted(days):
        who = days[d]
        kinds: dict[tuple[Any, Any], int] = {}
        for i in who:
            kinds[patients[i].window] = kinds.get(patients[i].window, 0) + 1
        total, _ = one_day(config, kinds, seconds=10.0)
        distance += total
    sessions = count * shape.infusions
    open_minutes = len(open_days) * (demand.CLOSES.hour - demand.OPENS.hour) * 60
    minutes = sessions * shape.chair_minutes
    return {
        "benchmark": "offline",
        "digest": demand.digest(config, share),
        "config": config.name,
        "demand_share_of_bound": share,
        "demanded_series": len(patients),
        "series": count,
        "bound": bound,
        "gap": round((bound - count) / bound, 4) if bound else 0.0,
        "optimal": count == bound,
        "daily_capacity": capacity,
        "capacity_bound_sessions": demand.capacity_sessions(config),
        "sessions_off_preferred_weekday": off_weekday,
        "mean_minutes_from_preferred_window": round(distance / sessions, 1) if sessions else None,
        "chair_utilisation": round(minutes / (config.chairs * open_minutes), 3),
        "nurse_utilisation": round(minutes / (config.nurses * config.capacity * open_minutes), 3),
        "mean_days_to_first_session": round(
            statistics.fmean(v[0] - patients[i].arrives for i, v in series_days.items()), 2
        )
        if series_days
        else None,
        "mean_span_days": round(statistics.fmean(v[-1] - v[0] for v in series_days.values()), 2)
        if series_days
        else None,
        "sessions_per_day": [len(days.get(d, [])) for d in sorted(open_days)],
        "greedy_series": len(hint),
        "seconds_count": round(count_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "time_limit_seconds": seconds,
        "workers": WORKERS,
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--config", action="append", help="one of 6c4n-k1 6c4n-k2 12c10n-k1 12c10n-k2"
    )
    parser.add_argument("--demand", type=float, action="append", help="share of the bound")
    parser.add_argument("--force", action="store_true", help="solve even if the digest matches")
    parser.add_argument("--time-limit", type=float, default=180.0, help="seconds per solve")
    args = parser.parse_args()
    _django_in_memory()
    from bench import demand

    for name in args.config or demand.CONFIGS:
        config = demand.CONFIGS[name]
        for share in args.demand or demand.DEMANDS:
            path = RESULTS / f"offline-{config.name}-{share}.json"
            if not args.force and path.exists():
                stored = json.loads(path.read_text())
                if stored.get("digest") == demand.digest(config, share):
                    print(f"{path.name}: current ({stored['series']} series)")
                    continue
            result = solve(config, share, args.time_limit)
            path.write_text(json.dumps(result, indent=2) + "\n")
            print(
                f"{config.name} demand {share}: {result['series']}/{result['demanded_series']} "
                f"series (bound {result['bound']}, gap {result['gap']}), "
                f"{result['mean_minutes_from_preferred_window']} min from window, "
                f"{result['sessions_off_preferred_weekday']} sessions off weekday, "
                f"{result['seconds']} s",
                flush=True,
            )
            if result["gap"] > GAP_GOAL:
                print(f"  gap above {GAP_GOAL}: raise --time-limit", flush=True)


if __name__ == "__main__":
    main()
