"""Runs the benchmark's predicates in DuckDB over the same contacts sift loaded.

Input: a JSON spec file {"csv": path, "runs": K, "queries": [{"name", "where"}]}.
Output (stdout): JSON {"load_ms": .., "threads": .., "queries": {name: {"count": n, "median_ms": t, "runs_ms": [..]}}}.
The table is loaded once (data already loaded when timing); each query runs once to
warm up, then K timed runs; the median is reported.
"""
import json
import statistics
import sys
import time

import duckdb

spec = json.load(open(sys.argv[1]))
con = duckdb.connect()
columns = {
    "email": "VARCHAR", "city": "VARCHAR", "country": "VARCHAR", "source": "VARCHAR",
    "totalspend": "DOUBLE", "orders": "DOUBLE", "age": "DOUBLE", "score": "DOUBLE",
    "lastorder": "DATE", "signup": "DATE", "vip": "BOOLEAN",
    "in_customers": "BOOLEAN", "in_newsletter": "BOOLEAN", "in_events": "BOOLEAN",
}
t0 = time.perf_counter()
con.execute(
    "CREATE TABLE c AS SELECT * FROM read_csv(?, header = true, columns = ?)",
    [spec["csv"], columns],
)
load_ms = (time.perf_counter() - t0) * 1000
threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
out = {"load_ms": load_ms, "threads": threads, "duckdb": duckdb.__version__, "queries": {}}
for q in spec["queries"]:
    sql = "SELECT count(*) FROM c WHERE " + q["where"]
    count = con.execute(sql).fetchone()[0]
    runs = []
    for _ in range(spec["runs"]):
        t = time.perf_counter()
        con.execute(sql).fetchone()
        runs.append((time.perf_counter() - t) * 1000)
    out["queries"][q["name"]] = {"count": count, "median_ms": statistics.median(runs), "runs_ms": runs}
print(json.dumps(out))
