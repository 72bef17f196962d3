#!/usr/bin/python3
"""compare_torch.py's parent logic, against the real `plexus bench --json`.

The parent uses only Python's standard library (torch lives in its worker
processes), so these run without torch: the JSON line's documented keys, the
ratio's direction per unit, reading plexus's own output, which CPU each round
pins, and a plexus that cannot run. ctest passes the plexus binary and the
source tree in PLEXUS_BIN and PLEXUS_SOURCE_DIR.
"""

import importlib.util
import json
import os
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ["PLEXUS_SOURCE_DIR"]
PLEXUS_BIN = os.environ["PLEXUS_BIN"]

_spec = importlib.util.spec_from_file_location(
    "compare_torch", os.path.join(SOURCE_DIR, "tools", "bench", "compare_torch.py"))
ct = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ct)


def args_for(*argv):
    return ct.parse_args(["--plexus", PLEXUS_BIN, *argv])


class JsonLine(unittest.TestCase):
    def row(self, unit, plexus, torch):
        ratio = plexus / torch if unit == ct.THROUGHPUT else torch / plexus
        return {"workload": "logreg", "threads": 2, "unit": unit,
                "plexus": {"median": plexus}, "torch": {"median": torch}, "ratio": ratio,
                "torch_config": "threads=2, OPENBLAS_NUM_THREADS=1"}

    def test_has_exactly_the_documented_keys(self):
        line = json.loads(ct.json_row(self.row(ct.THROUGHPUT, 380000.0, 17000.0)))
        self.assertEqual(set(line), {"workload", "threads", "plexus", "torch", "unit", "ratio", "torch_config"})
        self.assertEqual(line["workload"], "logreg")
        self.assertEqual(line["threads"], 2)
        self.assertAlmostEqual(line["ratio"], 380000.0 / 17000.0, places=3)

    def test_a_failed_plexus_run_prints_null(self):
        row = self.row(ct.THROUGHPUT, 1.0, 1.0)
        row["plexus"], row["ratio"] = None, None
        line = json.loads(ct.json_row(row))
        self.assertIsNone(line["plexus"])
        self.assertIsNone(line["ratio"])

    def test_better_follows_the_unit(self):
        self.assertTrue(ct.better(ct.THROUGHPUT, 2.0, 1.0))   # more steps/s
        self.assertTrue(ct.better(ct.LATENCY, 1.0, 2.0))      # fewer us/call
        self.assertFalse(ct.better(ct.LATENCY, 2.0, 1.0))


class Aggregate(unittest.TestCase):
    def test_median_of_medians_and_range_of_all_repeats(self):
        runs = [{"median": 10.0, "min": 9.0, "max": 12.0},
                {"median": 14.0, "min": 13.0, "max": 15.0},
                {"median": 11.0, "min": 8.0, "max": 11.5}]
        agg = ct.aggregate(runs)
        self.assertEqual(agg["median"], 11.0)
        self.assertEqual((agg["min"], agg["max"]), (8.0, 15.0))
        self.assertEqual(agg["runs"], 3)


class PlexusOutput(unittest.TestCase):
    def test_reads_real_bench_output(self):
        args = args_for("--plexus-arg=--quick")
        for workload, unit in (("logreg", ct.THROUGHPUT), ("mlp_infer1", ct.LATENCY)):
            record = ct.run_plexus(args, workload, 1)
            self.assertEqual(record["workload"], workload)
            self.assertEqual(record["unit"], unit)
            self.assertGreater(record["median"], 0)

    def test_each_round_can_pin_plexus_to_one_cpu(self):
        cpu = sorted(os.sched_getaffinity(0))[-1]
        record = ct.run_plexus(args_for("--plexus-arg=--quick"), "logreg", 1, cpu)
        self.assertGreater(record["median"], 0)
        # Where the pinned process may run, reported by the process itself: a
        # stand-in for the binary that prints its own allowed CPUs in plexus's
        # JSON format.
        with tempfile.TemporaryDirectory() as tmp:
            probe = os.path.join(tmp, "probe")
            with open(probe, "w") as f:
                f.write("#!/bin/sh\n"
                        "cpus=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)\n"
                        "echo '{\"workload\": \"logreg\", \"threads\": 1, \"unit\": \"steps/s\", "
                        "\"median\": 1, \"cpus\": \"'$cpus'\"}'\n")
            os.chmod(probe, 0o755)
            probe_args = ct.parse_args(["--plexus", probe])
            self.assertEqual(ct.run_plexus(probe_args, "logreg", 1, cpu)["cpus"], str(cpu))
            if len(os.sched_getaffinity(0)) > 1:  # unpinned, it may run on more than that one
                self.assertNotEqual(ct.run_plexus(probe_args, "logreg", 1)["cpus"], str(cpu))

    def test_missing_workload_and_wrong_unit_are_errors(self):
        line = json.dumps({"workload": "logreg", "threads": 1, "unit": "us/call", "median": 3.0})
        with self.assertRaisesRegex(ct.PlexusError, "expected 'steps/s'"):
            ct.parse_plexus_output(line, "logreg", 1)
        with self.assertRaisesRegex(ct.PlexusError, "no JSON line for workload 'mlp'"):
            ct.parse_plexus_output("log line\n" + line, "mlp", 1)

    def test_a_binary_that_cannot_run_is_named(self):
        args = ct.parse_args(["--plexus", "/nonexistent/plexus"])
        with self.assertRaisesRegex(ct.PlexusError, "cannot run /nonexistent/plexus"):
            ct.run_plexus(args, "logreg", 1)


class Pinning(unittest.TestCase):
    def test_one_thread_rounds_take_the_cpus_in_turn(self):
        cpus = sorted(os.sched_getaffinity(0))
        got = ct.round_cpus(args_for("--rounds", "5"), 1)
        if len(cpus) < 2:
            self.assertEqual(got, [None] * 5)
        else:
            self.assertEqual(got, [cpus[r % len(cpus)] for r in range(5)])

    def test_nothing_is_pinned_at_two_threads_or_with_pin_none(self):
        self.assertEqual(ct.round_cpus(args_for("--rounds", "3"), 2), [None] * 3)
        self.assertEqual(ct.round_cpus(args_for("--rounds", "3", "--pin", "none"), 1), [None] * 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
