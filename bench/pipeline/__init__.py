"""Pipeline benchmarks: backfill throughput and real-time time to hide."""
